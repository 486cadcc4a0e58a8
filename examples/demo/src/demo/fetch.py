import json
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from collections.abc import Mapping


def fetch_json(url: str) -> "Mapping[str, object]":
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return json.loads(response.text)


def fast_json(text: str):
    try:
        import orjson
    except ImportError:
        return json.loads(text)
    return orjson.loads(text)
