"""python -m minidynamo demo [--quick] | explain FILE.py:FUNC --args "shape, shape" [--report PATH]"""
import sys

USAGE = """usage:
  python -m minidynamo demo [--quick]
  python -m minidynamo explain FILE.py:FUNC --args "3,4; 4" [--backend eager] [--report PATH]
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        from .demo import main as demo_main
        return demo_main(rest)
    if cmd == "explain":
        from .cli import explain_main
        return explain_main(rest)
    print(f"unknown command {cmd!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
