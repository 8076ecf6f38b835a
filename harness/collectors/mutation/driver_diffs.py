"""Every in-scope mutant's diff, as mutmut makes it but computed once per function and on every core.

Part of the driver process (:mod:`.driver`); runs once mutmut is done, in a pool of forked workers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.collectors.mutation import driver_state as state
from harness.collectors.mutation import protocol


def _diffs(todo: list[tuple[str, str]]) -> list[str]:
    """mutmut's diff of each (mutant, path), as ``get_diff_for_mutant`` makes it, but reading each mutated file
    and parsing each original function once, not once per mutant; runs in the diff pool's workers."""
    from difflib import unified_diff

    import libcst as cst
    from mutmut.mutation.data import MutantLineSpans
    from mutmut.mutation.diff_apply import generated_function_names, get_diff_for_mutant, parse_generated_function
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    files: dict[str, tuple[Any, list[str]]] = {}
    originals: dict[tuple[str, str], str] = {}

    def code(path: str, generated: str, name: str, is_method: bool) -> str:
        spans, lines = files[path]
        span = spans.span_by_function_name[generated]
        function = parse_generated_function(
            "".join(lines[span.start - 1 : span.end]), name=generated, is_method=is_method
        )
        if function is None:
            raise KeyError(generated)
        return str(cst.Module([function.with_changes(name=cst.Name(name))]).code.strip())

    out = []
    for key, path in todo:
        try:
            if path not in files:
                spans = MutantLineSpans.load(path)
                if spans is None:
                    raise KeyError(path)
                files[path] = (spans, Path("mutants", path).read_text(encoding="utf-8").splitlines(keepends=True))
            orig_name, mutant_name = generated_function_names(key)
            name, class_name = orig_function_and_class_names_from_key(key)
            if (path, orig_name) not in originals:
                originals[path, orig_name] = code(path, orig_name, name, class_name is not None)
            before = originals[path, orig_name].split("\n")
            after = code(path, mutant_name, name, class_name is not None).split("\n")
            out.append("\n".join(unified_diff(before, after, fromfile=path, tofile=path, lineterm="")))
        except Exception:
            try:  # mutmut's own way (it parses the whole mutated file when its line index is unusable)
                out.append(get_diff_for_mutant(key, path=path))
            except Exception as exc:
                out.append(f"# diff unavailable: {exc}")
    return out


def write_diffs(mm: Any) -> None:
    """Every in-scope mutant's diff, cached by its function's hash (mutmut recomputes them each time), the
    missing ones computed on every core (a libcst parse each: ~7 ms, seconds for a module's mutants)."""
    from multiprocessing import get_context

    state.restore_target_modules()

    from mutmut.mutation.data import SourceFileMutationData

    mangled_function = state._helpers()[0].mangled_function

    cache_path = Path("mutants") / protocol.DIFFS_FILE
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        cache = {}
    out: dict[str, list[str]] = {}
    todo: list[tuple[str, str, str]] = []
    shard, plan = state.SPEC.get("shard"), state.SPEC.get("shard_plan")
    for path in mm.walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for key in data.exit_code_by_key:
            if shard and not protocol.in_shard(key, shard[0], shard[1], plan):
                continue
            if state.SCOPE_KEEP is not None and key not in state.SCOPE_KEEP:
                continue
            fhash = data.hash_by_function_name.get(mangled_function(key), "")
            cached = cache.get(key)
            if cached and cached[0] == fhash:
                out[key] = cached
            else:
                todo.append((key, str(path), fhash))
    chunks = [[(k, p) for k, p, _h in todo[i : i + 40]] for i in range(0, len(todo), 40)]
    if len(chunks) > 1:
        with get_context("fork").Pool(os.cpu_count() or 1) as pool:
            texts = [d for chunk in pool.map(_diffs, chunks) for d in chunk]
    else:
        texts = [d for chunk in chunks for d in _diffs(chunk)]
    for (key, _path, fhash), text in zip(todo, texts, strict=True):
        out[key] = [fhash, text]
    state._write_atomic(cache_path, json.dumps(out))

