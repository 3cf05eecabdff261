/*
 * bankkeys.pki._der — CPython binding of the DER framing check (der.c).
 *
 * check(data) -> (status, offset): status 0 when data is exactly one well-framed DER value,
 * else the bk_der_status code and the offset of the offending octet. The Python side words it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

static PyMethodDef der_methods[] = {
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
    return PyModule_Create(&der_module);
}
