"""Build the native GOST core (``bankkeys.gost._gost``) with the package itself.

No system library is needed at run time: the extension is self-contained C.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bankkeys.gost._gost",
            sources=[
                "src/bankkeys/gost/_c/module.c",
                "src/bankkeys/gost/_c/streebog.c",
                "src/bankkeys/gost/_c/ec.c",
            ],
            include_dirs=["src/bankkeys/gost/_c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra", "-fno-strict-aliasing"],
        )
    ]
)
