"""How the plan words a line or an arc from the module's source (harness.complexity): handlers, finally blocks,
async loops, long conditions, exits, and a function whose body is its docstring."""

from __future__ import annotations

from harness.complexity import FunctionInfo, SourceInfo

SOURCE = '''\
def f(x):
    try:
        y = 1
    except:
        y = 2
    try:
        try:
            y = 3
        except ValueError:
            y = 4
    finally:
        y = 5
    return y


def doc():
    """Only a docstring."""


async def g(xs):
    async for x in xs:
        pass
    if aaaaaaaaaaaaaaaaaaaa and bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb and ccccccccccccccccccccc:
        pass
    if a23456789012345678901234567890123456789012345678901234567890:
        pass
    lam = lambda: 1
    return [x for x in xs]
'''
INFO = SourceInfo.parse(SOURCE)


def test_clause_at_names_the_innermost_handler_or_finally_block() -> None:
    assert [INFO.clause_at(n) for n in (3, 5, 8, 10, 12, 13)] == [
        None, "the bare 'except' handler", None, "the 'except ValueError' handler", "the 'finally' block", None]


def test_a_function_whose_body_is_its_docstring_starts_at_the_docstring() -> None:
    assert INFO.function("doc") == FunctionInfo("doc", 16, 17, 1, 17)


def test_describe_arc_of_async_loops_long_conditions_and_exits() -> None:
    assert INFO.describe_arc((21, 22)) == "the body of 'async for x in xs' (an item to iterate)"
    assert INFO.describe_arc((21, 23)) == "the exit of 'async for x in xs' (iterable exhausted or empty)"
    assert INFO.describe_arc((23, 24)) == (  # conditions quoted up to 60 characters
        "the body of 'if aaaaaaaaaaaaaaaaaaaa and bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb…' (condition true)")
    assert INFO.describe_arc((25, 26)) == (
        "the body of 'if a23456789012345678901234567890123456789012345678901234567890' (condition true)")
    assert INFO.describe_arc((27, -27)) == "the lambda on line 27 being called"
    assert INFO.describe_arc((28, -28)) == "the generator or comprehension on line 28 running to its end"
    assert INFO.describe_arc((13, -1)) == "line 13 ('return y') leaving f"
    assert INFO.describe_arc((3, 6)) == "the jump from line 3 ('y = 1') to line 6"
    assert INFO.describe_arc((0, 6)) == "the jump from line 0 ('') to line 6"
