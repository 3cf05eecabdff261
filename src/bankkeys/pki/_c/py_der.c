/*
 * bankkeys.pki._der — CPython binding of the DER framing check (der.c).
 *
 * check(data) -> (status, offset): status 0 when data is exactly one well-framed DER value,
 * else the bk_der_status code and the offset of the offending octet. The Python side words it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "cms.h"
#include "der.h"

static PyObject *der_check(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0)
        return NULL;
    size_t where = 0;
    enum bk_der_status status = bk_der_check((const uint8_t *)view.buf, (size_t)view.len, &where);
    PyBuffer_Release(&view);
    return Py_BuildValue("(in)", (int)status, (Py_ssize_t)where);
}

static PyStructSequence_Field tlv_fields[] = {
    {"tag", "the identifier octet, or -1 for the high-tag-number form"},
    {"start", "offset of the identifier octet"},
    {"body", "offset of the contents"},
    {"end", "offset just past the contents"},
    {NULL, NULL},
};

static PyStructSequence_Desc tlv_desc = {
    "bankkeys.pki._der.Tlv", "One DER value's place in its data.", tlv_fields, 4,
};

static PyTypeObject *Tlv_Type;

static PyObject *new_tlv(int tag, size_t start, size_t body, size_t end)
{
    PyObject *tlv = PyStructSequence_New(Tlv_Type);
    if (tlv == NULL)
        return NULL;
    PyObject *values[4] = {PyLong_FromLong(tag), PyLong_FromSize_t(start),
                           PyLong_FromSize_t(body), PyLong_FromSize_t(end)};
    for (int i = 0; i < 4; i++) {
        if (values[i] == NULL) {
            for (int j = 0; j < 4; j++)
                Py_XDECREF(values[j]);
            Py_DECREF(tlv);
            return NULL;
        }
    }
    for (int i = 0; i < 4; i++)
        PyStructSequence_SET_ITEM(tlv, i, values[i]);
    return tlv;
}

static void set_framing_error(enum bk_der_status status, size_t offset)
{
    PyObject *args = Py_BuildValue("(in)", (int)status, (Py_ssize_t)offset);
    if (args != NULL) {
        PyErr_SetObject(PyExc_ValueError, args);
        Py_DECREF(args);
    }
}

/* read(data, pos, limit) -> Tlv: the value whose header is at data[pos], inside data[:limit];
 * ValueError((status, offset)) when it does not fit. */
static PyObject *der_read(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer view;
    Py_ssize_t pos, limit;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &limit))
        return NULL;
    PyObject *out = NULL;
    if (pos < 0 || limit < pos || limit > view.len) {
        PyErr_SetString(PyExc_ValueError, "read: range outside the data");
    } else {
        int tag;
        size_t body, end;
        enum bk_der_status status =
            bk_der_header((const uint8_t *)view.buf, (size_t)pos, (size_t)limit, &tag, &body, &end);
        if (status != BK_DER_OK)
            set_framing_error(status, (size_t)pos);
        else
            out = new_tlv(tag, (size_t)pos, body, end);
    }
    PyBuffer_Release(&view);
    return out;
}

/* children(data, start, end) -> [Tlv, ...]: the values edge to edge in
 * data[start:end]; ValueError((status, offset)) when they are not. */
static PyObject *der_children(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer view;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &start, &stop))
        return NULL;
    if (start < 0 || stop < start || stop > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "children: range outside the data");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    size_t pos = (size_t)start;
    while (out != NULL && pos < (size_t)stop) {
        int tag;
        size_t body, end;
        enum bk_der_status status =
            bk_der_header((const uint8_t *)view.buf, pos, (size_t)stop, &tag, &body, &end);
        if (status != BK_DER_OK) {
            set_framing_error(status, pos);
            Py_CLEAR(out);
            break;
        }
        PyObject *item = new_tlv(tag, pos, body, end);
        if (item == NULL || PyList_Append(out, item) != 0)
            Py_CLEAR(out);
        Py_XDECREF(item);
        pos = end;
    }
    PyBuffer_Release(&view);
    return out;
}

/* cms_signer(data) -> tuple | None: where the fields of a SignedData's one SignerInfo are
 * (bk_cms_signer; the order is cms.py's _FAST_FIELDS), or None to leave it to the Python reader. */
static PyObject *der_cms_signer(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0)
        return NULL;
    struct bk_cms_signer f;
    enum bk_cms_status status = bk_cms_signer((const uint8_t *)view.buf, (size_t)view.len, &f);
    PyBuffer_Release(&view);
    if (status != BK_CMS_OK)
        Py_RETURN_NONE;
    return Py_BuildValue(
        "(nni nn i nn nn nn nn nn nn nn nn in nn ii nn nn)", (Py_ssize_t)f.content_type.start,
        (Py_ssize_t)f.content_type.end, f.has_attached, (Py_ssize_t)f.attached.start,
        (Py_ssize_t)f.attached.end, f.sid_is_key_id, (Py_ssize_t)f.sid.start,
        (Py_ssize_t)f.sid.end, (Py_ssize_t)f.serial.start, (Py_ssize_t)f.serial.end,
        (Py_ssize_t)f.digest_oid.start, (Py_ssize_t)f.digest_oid.end,
        (Py_ssize_t)f.signature_oid.start, (Py_ssize_t)f.signature_oid.end,
        (Py_ssize_t)f.signature.start, (Py_ssize_t)f.signature.end, (Py_ssize_t)f.attrs.start,
        (Py_ssize_t)f.attrs.end, (Py_ssize_t)f.attr_content_type.start,
        (Py_ssize_t)f.attr_content_type.end, (Py_ssize_t)f.message_digest.start,
        (Py_ssize_t)f.message_digest.end, f.time_tag, (Py_ssize_t)f.time_start,
        (Py_ssize_t)f.time.start, (Py_ssize_t)f.time.end, f.has_ess, f.has_ess_hash_oid,
        (Py_ssize_t)f.ess_hash_oid.start, (Py_ssize_t)f.ess_hash_oid.end,
        (Py_ssize_t)f.ess_cert_hash.start, (Py_ssize_t)f.ess_cert_hash.end);
}

static PyMethodDef der_methods[] = {
    {"cms_signer", der_cms_signer, METH_O,
     "cms_signer(data) -> tuple | None: the fields of a SignedData's one SignerInfo."},
    {"children", der_children, METH_VARARGS,
     "children(data, start, end) -> [Tlv, ...]: the values edge to edge in the range."},
    {"read", der_read, METH_VARARGS, "read(data, pos, limit) -> Tlv: the value at pos."},
    {"check", der_check, METH_O,
     "check(data) -> (status, offset): the DER framing of data (0: well framed)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef der_module = {
    PyModuleDef_HEAD_INIT, "bankkeys.pki._der", "DER framing check.", -1, der_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__der(void)
{
    PyObject *module = PyModule_Create(&der_module);
    if (module == NULL)
        return NULL;
    Tlv_Type = PyStructSequence_NewType(&tlv_desc);
    if (Tlv_Type == NULL || PyModule_AddObject(module, "Tlv", (PyObject *)Tlv_Type) != 0) {
        Py_XDECREF(Tlv_Type);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(Tlv_Type); /* the module's reference was stolen; keep ours for new_tlv */
    return module;
}
