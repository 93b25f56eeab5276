"""The ``mdrisk`` group: subcommands load on first use, and ``mdrisk --help`` stays light."""

from __future__ import annotations

import ast
import gc
import inspect
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import mdrisk.cli
from mdrisk.cli.main import COMMANDS, main
from mdrisk.collector import collector_paused

CLI_FOLDER = Path(mdrisk.cli.__file__).parent


def _first_paragraph(command: click.Command) -> str:
    return inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_command_loads_under_its_name_with_the_summary_main_shows(name):
    command = main.get_command(None, name)
    assert command is not None and command.name == name
    assert COMMANDS[name].summary == _first_paragraph(command)


def _nested(group: click.Group, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = []
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        found.append(path + (name,))
        if isinstance(command, click.Group):
            found += _nested(command, path + (name,))
    return found


@pytest.mark.parametrize("path", _nested(main, ()), ids=" ".join)
def test_every_command_at_every_depth_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "Usage:" in result.output


def test_the_top_level_help_imports_no_command_module_rich_or_pydantic():
    probe = (
        "import sys\n"
        "from mdrisk.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'pydantic')"
        " or m.startswith('mdrisk.') and m not in ('mdrisk.cli', 'mdrisk.cli.main'))\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "Commands:" in result.stdout and "validate" in result.stdout
    assert "heavy: []" in result.stderr, result.stderr


def test_no_command_module_imports_another():
    """Only cli.common is shared; main registers the rest by name."""
    command_modules = {path.stem for path in CLI_FOLDER.glob("*.py")} - {
        "__init__",
        "__main__",
        "common",
    }
    for path in CLI_FOLDER.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        others = {f"mdrisk.cli.{name}" for name in command_modules} - {f"mdrisk.cli.{path.stem}"}
        if path.stem in ("__init__", "__main__"):
            others -= {"mdrisk.cli.main"}
        assert not imported & others, f"{path.name} imports {sorted(imported & others)}"


def test_the_collector_is_paused_inside_the_block_and_as_it_was_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with collector_paused(when=False):
        assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a collector off before stays off
    finally:
        gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_after_the_pause_what_the_block_allocated_is_old_not_a_backlog():
    with collector_paused():
        kept = [[index] for index in range(100_000)]
        # The count is allocations minus deallocations of tracked objects: other objects freed
        # meanwhile lower it a little, a collection would have reset it.
        assert gc.get_count()[0] > 90_000
    assert gc.get_count()[0] < 1_000 and gc.isenabled()
    assert gc.is_tracked(kept[0]) and gc.get_freeze_count() == 0


def test_without_a_terminal_the_progress_bar_is_silent_and_loads_no_rich_progress():
    code = (
        "import sys\n"
        "from mdrisk.cli.common import progress_bar\n"
        "with progress_bar() as progress:\n"
        "    task = progress.add_task('step', total=2)\n"
        "    progress.update(task, advance=1, description='next')\n"
        "    progress.stop()\n"
        "print('rich.progress' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n" and done.stderr == ""
