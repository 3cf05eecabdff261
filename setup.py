"""Build the native parts with the package itself: the GOST core (``bankkeys.gost._streebog`` and
``._ec``) and the DER framing check (``bankkeys.pki._der``).

No system library is needed at run time: the extension is self-contained C.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            f"bankkeys.gost._{name}",
            # _ec hashes too (digest_and_verify: the hash and the verification in one call).
            sources=[f"src/bankkeys/gost/_c/py_{name}.c", f"src/bankkeys/gost/_c/{name}.c"]
            + (["src/bankkeys/gost/_c/streebog.c"] if name == "ec" else []),
            include_dirs=["src/bankkeys/gost/_c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra", "-fno-strict-aliasing"],
        )
        for name in ("streebog", "ec")
    ]
    + [
        Extension(
            "bankkeys.pki._der",
            sources=[
                "src/bankkeys/pki/_c/py_der.c",
                "src/bankkeys/pki/_c/der.c",
                "src/bankkeys/pki/_c/cms.c",
            ],
            include_dirs=["src/bankkeys/pki/_c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
        )
    ]
)
