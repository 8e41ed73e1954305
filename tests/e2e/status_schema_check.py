#!/usr/bin/env python3
"""Validates `dln status --json` output against the structure the README documents.

    status_schema_check.py README.md STATUS.json...

The schema is the json block after the line `<!-- status-json-schema` in the README, so the
documentation and the test cannot drift apart. It uses the subset of JSON Schema written there
(type, enum, properties, required, additionalProperties, items, minimum, $ref to #/definitions);
there is no jsonschema module on Debian's python3 by default, hence this small validator.
Prints "ok: FILE" per valid document; exits 1 with the path of the first violation otherwise.
"""
import json
import sys

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def type_ok(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def validate(value, schema, root, path):
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, n) for n in names):
            raise ValueError(f"{path}: {value!r} is not of type {names}")
        if value is None:
            return
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError(f"{path}: {value!r} is not one of {schema['enum']}")
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/definitions/"), ref
        validate(value, root["definitions"][ref.split("/")[-1]], root, path)
    if "minimum" in schema and value < schema["minimum"]:
        raise ValueError(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                raise ValueError(f"{path}: missing {key}")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                validate(item, properties[key], root, f"{path}.{key}")
            elif extra is False:
                raise ValueError(f"{path}: {key} is not documented")
            elif isinstance(extra, dict):
                validate(item, extra, root, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for k, item in enumerate(value):
            validate(item, schema["items"], root, f"{path}[{k}]")


def readme_schema(readme):
    lines = open(readme, encoding="utf-8").read().splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("<!-- status-json-schema"))
    assert lines[start + 1] == "```json", lines[start + 1]
    end = lines.index("```", start + 2)
    return json.loads("\n".join(lines[start + 2:end]))


def main():
    schema = readme_schema(sys.argv[1])
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.count("\n") != 1 or not text.endswith("\n"):
            print(f"FAIL: {path}: not one line")
            sys.exit(1)
        try:
            validate(json.loads(text), schema, schema, "$")
        except ValueError as e:
            print(f"FAIL: {path}: {e}")
            sys.exit(1)
        print(f"ok: {path}")


if __name__ == "__main__":
    main()
