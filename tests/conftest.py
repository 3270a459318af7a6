"""Session-wide test settings."""
import fxlite._assemble

# every graph forward written straight to bytecode is compared, instruction by instruction and
# line by line, with what compile() makes of its source (fxlite/_assemble.py)
fxlite._assemble.check_assembly(True)
