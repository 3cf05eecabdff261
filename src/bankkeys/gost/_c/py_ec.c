/* CPython binding of the GOST R 34.10-2012 core: bankkeys.gost._ec.
 *
 * Every entry point takes the curve id (see ec.h) and bytes-like arguments, checks every length,
 * releases the GIL around the arithmetic, and raises only the errors of bankkeys.gost.errors
 * (TypeError for arguments of the wrong type).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "ec.h"
#include "streebog.h"

static PyObject *ErrUnknown, *ErrLength, *ErrPrivate, *ErrPublic, *ErrSignature, *ErrBase;

static int raise_status(ec_status st) {
    switch (st) {
    case EC_OK:
        return 0;
    case EC_ERR_CURVE:
        PyErr_SetString(ErrUnknown, "Неизвестный набор параметров эллиптической кривой");
        break;
    case EC_ERR_PRIVATE:
        PyErr_SetString(ErrPrivate, "Недопустимый закрытый ключ: требуется 0 < d < q");
        break;
    case EC_ERR_PUBLIC:
        PyErr_SetString(ErrPublic,
                        "Недопустимый открытый ключ: точка не принадлежит подгруппе порядка q");
        break;
    case EC_ERR_SIGNATURE:
        PyErr_SetString(ErrSignature, "Подпись неверна");
        break;
    case EC_ERR_NONCE:
        PyErr_SetString(ErrBase, "Непригодное значение k: требуется 0 < k < q, r != 0, s != 0");
        break;
    case EC_ERR_RANGE:
        PyErr_SetString(ErrBase, "Значение вне допустимого диапазона: требуется 0 < a < модуля");
        break;
    case EC_ERR_RANDOM:
        PyErr_SetString(ErrBase, "Сбой генератора случайных чисел операционной системы");
        break;
    default:
        PyErr_SetString(ErrBase, "Недостаточно памяти для таблиц кривой");
        break;
    }
    return -1;
}

/* the curve's byte size, or -1 with UnknownParameterSet set */
static Py_ssize_t size_of(int curve) {
    size_t n = ec_size(curve);
    if (!n) {
        raise_status(EC_ERR_CURVE);
        return -1;
    }
    return (Py_ssize_t)n;
}

static int check_len(const Py_buffer *b, Py_ssize_t want, const char *what) {
    if (b->len == want) return 0;
    /* the format string must be ASCII; the Russian words go in as UTF-8 arguments */
    PyErr_Format(ErrLength, "%s (%s): %s %zd %s, %s %zd", "Неверная длина", what, "ожидается",
                 want, "байт", "получено", b->len);
    return -1;
}

static PyObject *py_info(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    if (!PyArg_ParseTuple(args, "i:info", &curve)) return NULL;
    const ec_curve_info *I = ec_info(curve);
    if (!I) {
        raise_status(EC_ERR_CURVE);
        return NULL;
    }
    return Py_BuildValue("(sIIssssss)", I->name, I->bits, I->cofactor, I->p, I->a, I->b, I->q,
                         I->x, I->y);
}

static PyObject *py_generate(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    if (!PyArg_ParseTuple(args, "i:generate", &curve)) return NULL;
    Py_ssize_t n = size_of(curve);
    if (n < 0) return NULL;
    uint8_t d[64];
    ec_status st;
    Py_BEGIN_ALLOW_THREADS st = ec_generate(curve, d);
    Py_END_ALLOW_THREADS PyObject *out = raise_status(st) ? NULL
                                                          : PyBytes_FromStringAndSize((char *)d, n);
    memset(d, 0, sizeof d);
    return out;
}

static PyObject *py_check_private(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    Py_buffer d;
    if (!PyArg_ParseTuple(args, "iy*:check_private", &curve, &d)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&d, n, "закрытый ключ")) {
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = ec_check_private(curve, d.buf);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&d);
    return out;
}

static PyObject *py_check_public(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    Py_buffer pub;
    if (!PyArg_ParseTuple(args, "iy*:check_public", &curve, &pub)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&pub, 2 * n, "открытый ключ")) {
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = ec_check_public(curve, pub.buf);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&pub);
    return out;
}

static PyObject *py_public_key(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    Py_buffer d;
    if (!PyArg_ParseTuple(args, "iy*:public_key", &curve, &d)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&d, n, "закрытый ключ")) {
        uint8_t pub[128];
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = ec_public_key(curve, d.buf, pub);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out =
            PyBytes_FromStringAndSize((char *)pub, 2 * n);
    }
    PyBuffer_Release(&d);
    return out;
}

static PyObject *py_sign(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    Py_buffer d, digest;
    if (!PyArg_ParseTuple(args, "iy*y*:sign", &curve, &d, &digest)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&d, n, "закрытый ключ") && !check_len(&digest, n, "хэш-код")) {
        uint8_t sig[128];
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = ec_sign(curve, d.buf, digest.buf, sig);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out =
            PyBytes_FromStringAndSize((char *)sig, 2 * n);
    }
    PyBuffer_Release(&d);
    PyBuffer_Release(&digest);
    return out;
}

static PyObject *py_sign_with_k(PyObject *self, PyObject *args) {
    (void)self;
    int curve;
    Py_buffer d, digest, k;
    if (!PyArg_ParseTuple(args, "iy*y*y*:sign_with_k", &curve, &d, &digest, &k)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&d, n, "закрытый ключ") && !check_len(&digest, n, "хэш-код") &&
        !check_len(&k, n, "k")) {
        uint8_t sig[128];
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = ec_sign_with_k(curve, d.buf, digest.buf, k.buf, sig);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out =
            PyBytes_FromStringAndSize((char *)sig, 2 * n);
    }
    PyBuffer_Release(&d);
    PyBuffer_Release(&digest);
    PyBuffer_Release(&k);
    return out;
}

static PyObject *py_verify(PyObject *self, PyObject *args) {
    (void)self;
    int curve, key_checked = 0;
    Py_buffer pub, digest, sig;
    if (!PyArg_ParseTuple(args, "iy*y*y*|p:verify", &curve, &pub, &digest, &sig, &key_checked))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&pub, 2 * n, "открытый ключ") &&
        !check_len(&digest, n, "хэш-код") && !check_len(&sig, 2 * n, "подпись")) {
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st =
            ec_verify_key_checked(curve, pub.buf, digest.buf, sig.buf, key_checked);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&pub);
    PyBuffer_Release(&digest);
    PyBuffer_Release(&sig);
    return out;
}

/* A signature over a message and the digest of another text, in one call with the GIL released
 * once: a CMS signer's signed attributes and the content whose digest they carry. Both hashes
 * are the curve's Streebog (256 or 512 bits). A signature that does not verify, for whatever
 * reason (lengths, key, the equation), is False, never an exception: the caller decides what
 * to say, and in what order beside the digest. */

/* The work of one such check, without the GIL: buffers pinned by the caller; n = ec_size. */
static ec_status digest_and_verify_one(int curve, Py_ssize_t n, const Py_buffer *pub,
                                       const Py_buffer *message, const Py_buffer *sig,
                                       const Py_buffer *content, int key_checked,
                                       uint8_t content_digest[STREEBOG512_DIGEST_SIZE]) {
    uint8_t digest[STREEBOG512_DIGEST_SIZE];
    streebog((unsigned)n * 8, content->buf, (size_t)content->len, content_digest);
    if (pub->len != 2 * n || sig->len != 2 * n) return EC_ERR_SIGNATURE;
    streebog((unsigned)n * 8, message->buf, (size_t)message->len, digest);
    return ec_verify_key_checked(curve, pub->buf, digest, sig->buf, key_checked);
}

/* (content digest, valid), or NULL with the exception of a status that is no verdict. */
static PyObject *verdict(ec_status st, const uint8_t *content_digest, Py_ssize_t n) {
    if (st == EC_OK || st == EC_ERR_SIGNATURE || st == EC_ERR_PUBLIC)
        return Py_BuildValue("(y#O)", (const char *)content_digest, n,
                             st == EC_OK ? Py_True : Py_False);
    raise_status(st);
    return NULL;
}

static PyObject *py_digest_and_verify(PyObject *self, PyObject *args) {
    (void)self;
    int curve, key_checked = 0;
    Py_buffer pub, message, sig, content;
    if (!PyArg_ParseTuple(args, "iy*y*y*y*|p:digest_and_verify", &curve, &pub, &message, &sig,
                          &content, &key_checked))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0) {
        uint8_t content_digest[STREEBOG512_DIGEST_SIZE];
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = digest_and_verify_one(curve, n, &pub, &message, &sig, &content,
                                                          key_checked, content_digest);
        Py_END_ALLOW_THREADS;
        out = verdict(st, content_digest, n);
    }
    PyBuffer_Release(&pub);
    PyBuffer_Release(&message);
    PyBuffer_Release(&sig);
    PyBuffer_Release(&content);
    return out;
}

typedef struct {
    int curve, key_checked, held;
    Py_ssize_t n;
    Py_buffer pub, message, sig, content;
    ec_status st;
    uint8_t content_digest[STREEBOG512_DIGEST_SIZE];
} check_job;

/* digest_and_verify over a sequence of argument tuples, the GIL released once for all of them:
 * a thread checking a batch takes the GIL back once, not once per signature (each time it may
 * wait for another thread's whole switch interval). */
static PyObject *py_digest_and_verify_many(PyObject *self, PyObject *arg) {
    (void)self;
    PyObject *seq = PySequence_Fast(arg, "digest_and_verify_many takes a sequence of tuples");
    if (seq == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    check_job *jobs = PyMem_Calloc(count > 0 ? (size_t)count : 1, sizeof *jobs);
    PyObject *out = NULL;
    if (jobs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        check_job *j = &jobs[i];
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(item)) {
            PyErr_Format(PyExc_TypeError, "digest_and_verify_many: item %zd is not a tuple", i);
            goto done;
        }
        if (!PyArg_ParseTuple(item, "iy*y*y*y*|p:digest_and_verify_many", &j->curve, &j->pub,
                              &j->message, &j->sig, &j->content, &j->key_checked))
            goto done;
        j->held = 1;
        j->n = size_of(j->curve);
        if (j->n < 0) goto done;
    }
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < count; i++) {
        check_job *j = &jobs[i];
        j->st = digest_and_verify_one(j->curve, j->n, &j->pub, &j->message, &j->sig, &j->content,
                                      j->key_checked, j->content_digest);
    }
    Py_END_ALLOW_THREADS;
    PyObject *list = PyList_New(count);
    if (list == NULL) goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *one = verdict(jobs[i].st, jobs[i].content_digest, jobs[i].n);
        if (one == NULL) {
            Py_DECREF(list);
            goto done;
        }
        PyList_SET_ITEM(list, i, one);
    }
    out = list;
done:
    if (jobs != NULL) {
        for (Py_ssize_t i = 0; i < count; i++) {
            if (!jobs[i].held) continue;
            PyBuffer_Release(&jobs[i].pub);
            PyBuffer_Release(&jobs[i].message);
            PyBuffer_Release(&jobs[i].sig);
            PyBuffer_Release(&jobs[i].content);
        }
        PyMem_Free(jobs);
    }
    Py_DECREF(seq);
    return out;
}

static PyObject *py_inverse(PyObject *self, PyObject *args) {
    (void)self;
    int curve, mod_q, variable_time;
    Py_buffer a;
    if (!PyArg_ParseTuple(args, "ippy*:inverse", &curve, &mod_q, &variable_time, &a)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = size_of(curve);
    if (n >= 0 && !check_len(&a, n, "a")) {
        uint8_t r[64];
        ec_status st;
        Py_BEGIN_ALLOW_THREADS st = ec_inverse(curve, mod_q, variable_time, a.buf, r);
        Py_END_ALLOW_THREADS if (!raise_status(st)) out =
            PyBytes_FromStringAndSize((char *)r, n);
    }
    PyBuffer_Release(&a);
    return out;
}

static PyMethodDef METHODS[] = {
    {"info", py_info, METH_VARARGS,
     "info(curve) -> (name, bits, cofactor, p, a, b, q, x, y); numbers as big-endian hex"},
    {"generate", py_generate, METH_VARARGS, "generate(curve) -> d (LE), uniform in [1, q-1]"},
    {"check_private", py_check_private, METH_VARARGS, "check_private(curve, d) -> None"},
    {"check_public", py_check_public, METH_VARARGS, "check_public(curve, X||Y) -> None"},
    {"public_key", py_public_key, METH_VARARGS, "public_key(curve, d) -> X||Y (LE each)"},
    {"sign", py_sign, METH_VARARGS, "sign(curve, d, digest) -> s||r (BE each)"},
    {"sign_with_k", py_sign_with_k, METH_VARARGS,
     "sign_with_k(curve, d, digest, k) -> s||r; test vectors only, never with a real key"},
    {"verify", py_verify, METH_VARARGS,
     "verify(curve, X||Y, digest, s||r, key_checked=False) -> None or raises"},
    {"digest_and_verify", py_digest_and_verify, METH_VARARGS,
     "digest_and_verify(curve, X||Y, message, s||r, content, key_checked=False) -> "
     "(Streebog(content), whether s||r verifies over Streebog(message))"},
    {"digest_and_verify_many", py_digest_and_verify_many, METH_O,
     "digest_and_verify_many([(curve, X||Y, message, s||r, content[, key_checked]), ...]) -> "
     "[(digest, valid), ...]; the GIL released once for all"},
    {"inverse", py_inverse, METH_VARARGS,
     "inverse(curve, mod_q, variable_time, a) -> a^-1 mod p or q (LE each); test hook"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "bankkeys.gost._ec",
    "GOST R 34.10-2012 signatures: the native core (use bankkeys.gost.gost3410).", -1, METHODS,
    NULL, NULL, NULL, NULL,
};

static PyObject *error_class(PyObject *mod, const char *name) {
    PyObject *cls = PyObject_GetAttrString(mod, name);
    return cls;
}

PyMODINIT_FUNC PyInit__ec(void) {
    PyObject *errors = PyImport_ImportModule("bankkeys.gost.errors");
    if (!errors) return NULL;
    ErrBase = error_class(errors, "GostError");
    ErrUnknown = error_class(errors, "UnknownParameterSet");
    ErrLength = error_class(errors, "InvalidLength");
    ErrPrivate = error_class(errors, "InvalidPrivateKey");
    ErrPublic = error_class(errors, "InvalidPublicKey");
    ErrSignature = error_class(errors, "InvalidSignature");
    Py_DECREF(errors);
    if (!ErrBase || !ErrUnknown || !ErrLength || !ErrPrivate || !ErrPublic || !ErrSignature)
        return NULL;
    PyObject *m = PyModule_Create(&MODULE);
    if (!m) return NULL;
    if (PyModule_AddIntConstant(m, "CURVE_COUNT", EC_CURVE_COUNT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
