"""Back ends of the `plena` dialect: module <-> instruction list, and the output targets
`plena-asm` (assembly text) and `plena-bin` (machine code, one `0x%08X` word per line).

`get_all_targets()` maps target names to lazy factories, the xDSL convention.
"""

from collections.abc import Callable

from xdsl.utils.target import Target


def get_all_targets() -> dict[str, Callable[[], type[Target]]]:
    def get_plena_asm() -> type[Target]:
        from plena_mlir.backend.targets import PlenaAsmTarget

        return PlenaAsmTarget

    def get_plena_bin() -> type[Target]:
        from plena_mlir.backend.targets import PlenaBinTarget

        return PlenaBinTarget

    return {"plena-asm": get_plena_asm, "plena-bin": get_plena_bin}
