/*
 * bankkeys.gost._streebog — CPython binding of the Streebog core (streebog.c).
 *
 * One type, Streebog(digest_size, data=b""), with the hashlib object protocol. Each object holds
 * a lock so several threads may share one object: updates are serialised, never interleaved
 * within a call. Inputs of GIL_RELEASE_MIN bytes or more are hashed with the GIL released.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include "streebog.h"

/* Below this, releasing and re-taking the GIL costs more than the hashing itself. */
#define GIL_RELEASE_MIN 2048

typedef struct {
    PyObject_HEAD
    streebog_ctx ctx;
    PyThread_type_lock lock;
} StreebogObject;

static PyTypeObject Streebog_Type;

/* Take the object's lock, dropping the GIL only if another thread holds the lock (that thread
 * may be waiting for the GIL itself). */
static void lock_object(StreebogObject *self)
{
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

static void unlock_object(StreebogObject *self)
{
    PyThread_release_lock(self->lock);
}

static StreebogObject *streebog_alloc(PyTypeObject *type)
{
    StreebogObject *self = (StreebogObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_MemoryError, "cannot allocate a lock for the Streebog object");
        return NULL;
    }
    return self;
}

/* Absorb a buffer-protocol object; returns 0 or -1 with an exception set. */
static int absorb(StreebogObject *self, PyObject *data)
{
    if (PyUnicode_Check(data)) {
        PyErr_SetString(PyExc_TypeError,
                        "Streebog hashes bytes, not str: encode the text first (e.g. .encode())");
        return -1;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Format(PyExc_TypeError,
                         "Streebog hashes a bytes-like object (bytes, bytearray, memoryview), not %.100s",
                         Py_TYPE(data)->tp_name);
        }
        return -1;
    }
    /* The exported buffer pins the data (a bytearray cannot be resized meanwhile), so it stays
     * valid while the GIL is released. */
    if (view.len >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        streebog_update(&self->ctx, view.buf, (size_t)view.len);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS
    } else {
        lock_object(self);
        streebog_update(&self->ctx, view.buf, (size_t)view.len);
        unlock_object(self);
    }
    PyBuffer_Release(&view);
    return 0;
}

static PyObject *Streebog_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"digest_size", "data", NULL};
    int digest_size;
    PyObject *data = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|O:Streebog", keywords, &digest_size, &data)) {
        return NULL;
    }
    if (digest_size != STREEBOG256_DIGEST_SIZE && digest_size != STREEBOG512_DIGEST_SIZE) {
        PyErr_Format(PyExc_ValueError, "Streebog digest_size must be 32 or 64 bytes, not %d",
                     digest_size);
        return NULL;
    }
    StreebogObject *self = streebog_alloc(type);
    if (self == NULL) {
        return NULL;
    }
    streebog_init(&self->ctx, (unsigned)digest_size * 8);
    if (data != NULL && absorb(self, data) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void Streebog_dealloc(StreebogObject *self)
{
    streebog_wipe(&self->ctx, sizeof self->ctx);
    if (self->lock != NULL) {
        PyThread_free_lock(self->lock);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Streebog_update(StreebogObject *self, PyObject *data)
{
    if (absorb(self, data) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Digest of everything absorbed so far, leaving the object usable. */
static void current_digest(StreebogObject *self, uint8_t out[STREEBOG512_DIGEST_SIZE])
{
    streebog_ctx snapshot;
    lock_object(self);
    snapshot = self->ctx;
    unlock_object(self);
    streebog_final(&snapshot, out); /* also wipes the snapshot */
}

static PyObject *Streebog_digest(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t out[STREEBOG512_DIGEST_SIZE];
    current_digest(self, out);
    PyObject *result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)self->ctx.digest_size);
    streebog_wipe(out, sizeof out);
    return result;
}

static PyObject *Streebog_hexdigest(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    static const char hex[] = "0123456789abcdef";
    uint8_t out[STREEBOG512_DIGEST_SIZE];
    char text[2 * STREEBOG512_DIGEST_SIZE];
    size_t size = self->ctx.digest_size;
    current_digest(self, out);
    for (size_t i = 0; i < size; i++) {
        text[2 * i] = hex[out[i] >> 4];
        text[2 * i + 1] = hex[out[i] & 0x0f];
    }
    PyObject *result = PyUnicode_FromStringAndSize(text, (Py_ssize_t)(2 * size));
    streebog_wipe(out, sizeof out);
    streebog_wipe(text, sizeof text);
    return result;
}

static PyObject *Streebog_copy(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    StreebogObject *twin = streebog_alloc(Py_TYPE(self));
    if (twin == NULL) {
        return NULL;
    }
    lock_object(self);
    twin->ctx = self->ctx;
    unlock_object(self);
    return (PyObject *)twin;
}

static PyObject *Streebog_get_name(StreebogObject *self, void *Py_UNUSED(closure))
{
    return PyUnicode_FromString(self->ctx.digest_size == STREEBOG256_DIGEST_SIZE ? "streebog256"
                                                                                : "streebog512");
}

static PyObject *Streebog_get_digest_size(StreebogObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->ctx.digest_size);
}

static PyObject *Streebog_get_block_size(StreebogObject *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    return PyLong_FromLong(STREEBOG_BLOCK_SIZE);
}

static PyObject *Streebog_repr(StreebogObject *self)
{
    return PyUnicode_FromFormat("<%s hash object @ %p>",
                                self->ctx.digest_size == STREEBOG256_DIGEST_SIZE ? "streebog256"
                                                                                 : "streebog512",
                                (void *)self);
}

static PyMethodDef Streebog_methods[] = {
    {"update", (PyCFunction)Streebog_update, METH_O,
     "update(data, /)\n--\n\nAbsorb a bytes-like object."},
    {"digest", (PyCFunction)Streebog_digest, METH_NOARGS,
     "digest($self, /)\n--\n\nDigest of the data so far, as `openssl dgst` prints it."},
    {"hexdigest", (PyCFunction)Streebog_hexdigest, METH_NOARGS,
     "hexdigest($self, /)\n--\n\nDigest of the data so far as lowercase hex."},
    {"copy", (PyCFunction)Streebog_copy, METH_NOARGS,
     "copy($self, /)\n--\n\nAn independent object with the same state."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Streebog_getset[] = {
    {"name", (getter)Streebog_get_name, NULL, "'streebog256' or 'streebog512'", NULL},
    {"digest_size", (getter)Streebog_get_digest_size, NULL, "digest length in bytes (32 or 64)",
     NULL},
    {"block_size", (getter)Streebog_get_block_size, NULL, "block length in bytes (64)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject Streebog_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bankkeys.gost._streebog.Streebog",
    .tp_basicsize = sizeof(StreebogObject),
    .tp_dealloc = (destructor)Streebog_dealloc,
    .tp_repr = (reprfunc)Streebog_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Streebog(digest_size, data=b'')\n--\n\n"
              "GOST R 34.11-2012 hash object; digest_size is 32 (Streebog-256) or 64 (Streebog-512).",
    .tp_methods = Streebog_methods,
    .tp_getset = Streebog_getset,
    .tp_new = Streebog_new,
};

/* digest_many(digest_size, buffers) -> [digest, ...]: every buffer hashed, the GIL released
 * once for all of them (a batch's small inputs, each below GIL_RELEASE_MIN, together). */
static PyObject *streebog_digest_many(PyObject *module, PyObject *args)
{
    (void)module;
    int digest_size;
    PyObject *items;
    if (!PyArg_ParseTuple(args, "iO:digest_many", &digest_size, &items)) {
        return NULL;
    }
    if (digest_size != STREEBOG256_DIGEST_SIZE && digest_size != STREEBOG512_DIGEST_SIZE) {
        PyErr_Format(PyExc_ValueError, "Streebog digest_size must be 32 or 64 bytes, not %d",
                     digest_size);
        return NULL;
    }
    PyObject *seq = PySequence_Fast(items, "digest_many takes a sequence of bytes-like objects");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    Py_buffer *views = PyMem_Calloc(count > 0 ? (size_t)count : 1, sizeof *views);
    uint8_t *digests = PyMem_Malloc(count > 0 ? (size_t)count * (size_t)digest_size : 1);
    PyObject *out = NULL;
    Py_ssize_t held = 0;
    if (views == NULL || digests == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (; held < count; held++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, held);
        if (PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError,
                            "Streebog hashes bytes, not str: encode the text first (e.g. .encode())");
            goto done;
        }
        if (PyObject_GetBuffer(item, &views[held], PyBUF_SIMPLE) < 0) {
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        streebog((unsigned)digest_size * 8, views[i].buf, (size_t)views[i].len,
                 digests + i * digest_size);
    }
    Py_END_ALLOW_THREADS
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *one = PyBytes_FromStringAndSize((const char *)digests + i * digest_size,
                                                  digest_size);
        if (one == NULL) {
            Py_DECREF(list);
            goto done;
        }
        PyList_SET_ITEM(list, i, one);
    }
    out = list;
done:
    for (Py_ssize_t i = 0; i < held; i++) {
        PyBuffer_Release(&views[i]);
    }
    PyMem_Free(views);
    PyMem_Free(digests);
    Py_DECREF(seq);
    return out;
}

static PyMethodDef streebog_functions[] = {
    {"digest_many", streebog_digest_many, METH_VARARGS,
     "digest_many(digest_size, buffers) -> [digest, ...]; the GIL released once for all"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef streebog_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bankkeys.gost._streebog",
    .m_doc = "Native Streebog (GOST R 34.11-2012) core; use bankkeys.gost.streebog.",
    .m_size = -1,
    .m_methods = streebog_functions,
};

PyMODINIT_FUNC PyInit__streebog(void)
{
    if (PyType_Ready(&Streebog_Type) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&streebog_module);
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(&Streebog_Type);
    if (PyModule_AddObject(module, "Streebog", (PyObject *)&Streebog_Type) < 0) {
        Py_DECREF(&Streebog_Type);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
