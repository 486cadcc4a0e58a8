import sys

from demo import fetch_json


def main() -> int:
    if len(sys.argv) > 1:
        print(fetch_json(sys.argv[1]))
    else:
        import importlib

        module = importlib.import_module("demo.fetch")
        print("demo ok:", module.__name__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
