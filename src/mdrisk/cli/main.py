"""The ``mdrisk`` command group: which subcommands there are, where each lives, and its summary.

Each subcommand's module is imported only when that subcommand runs (or shows its own help),
so ``mdrisk --help`` needs click alone. Exit status: 0 done, 1 the tool could not finish (a
missing program, an internal error), 2 bad input (the message names the file, line and
field) or bad usage.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import click

from mdrisk import __version__


class LazyCommand(NamedTuple):
    module: str  # under mdrisk.cli
    attribute: str
    # The first paragraph of the command's help (a test keeps the two the same).
    summary: str


COMMANDS: dict[str, LazyCommand] = {
    "attack": LazyCommand(
        "attack",
        "attack",
        "Run the attacks on a device's own ML model, constrained by what each FDI point reaches.",
    ),
    "analyze": LazyCommand(
        "analyze", "analyze", "Run STPA-Sec on a device model and write the assessment to a folder."
    ),
    "campaign": LazyCommand(
        "campaign",
        "campaign_group",
        "Simulation and attack sweeps over many patient-days, on Dask or in this process.",
    ),
    "demo": LazyCommand(
        "demo",
        "demo",
        "Run the whole chain on a built-in reference device, offline, with embedded defaults.",
    ),
    "diff": LazyCommand(
        "diff",
        "diff",
        "Compare two assessment.json files: risks, loss-scenario classes, attack scenarios, "
        "vulnerabilities, possible vulnerabilities (below the confidence cut-off) and the "
        "knowledge base's coverage of each technology, added, removed and changed.",
    ),
    "diagram": LazyCommand(
        "analyze",
        "diagram",
        "Draw the control structure: control actions, feedback, data, updates; FDI points red.",
    ),
    "enrich": LazyCommand(
        "llm",
        "enrich",
        "Add LLM-drafted narratives to an assessment, keeping every finding as it was.",
    ),
    "examples": LazyCommand("analyze", "examples", "List the built-in reference device models."),
    "extract": LazyCommand(
        "extract",
        "extract_command",
        "Identify the technologies device DOCUMENTS name (text, Markdown, PDF) and draft a "
        "device model from them.",
    ),
    "kb": LazyCommand(
        "kb",
        "kb_group",
        "The local knowledge base: vulnerabilities, advisories, KEV, EPSS, CWE, CAPEC, "
        "ATT&CK, ATLAS and SBOM components, imported from files and matched to device "
        "components.",
    ),
    "landscape": LazyCommand(
        "landscape",
        "landscape_group",
        "The threat landscape of AI-enabled medical devices, from public data.",
    ),
    "model": LazyCommand("model", "model_group", "Draft a device model from an SBOM."),
    "report": LazyCommand(
        "report",
        "report",
        "Write the premarket evidence package for SOURCE: an assessment.json written by "
        "'mdrisk analyze', or a device model (analysed first).",
    ),
    "risk": LazyCommand(
        "risk",
        "risk",
        "Score the risks of a device model (a file, or a built-in example name).",
    ),
    "scenarios": LazyCommand(
        "scenarios",
        "scenarios_command",
        "Rank the attack scenarios of a device model (a file, or a built-in example name).",
    ),
    "serve": LazyCommand(
        "serve",
        "serve",
        "Start the analyst's workbench: a local web app to model devices, run analyses, "
        "read and decide risks, answer rubric questions, compare and export.",
    ),
    "simulate": LazyCommand(
        "simulate",
        "simulate_group",
        "Closed-loop patient simulation: measured harm of false-data injection.",
    ),
    "validate": LazyCommand(
        "analyze",
        "validate",
        "Check a device model file: schema, ids, kinds, and STPA completeness checks.",
    ),
}

# Subcommands of a group that live in a module of their own, added when the group loads.
SUBCOMMANDS: dict[str, dict[str, LazyCommand]] = {
    "simulate": {
        "worst-case": LazyCommand(
            "worst_case",
            "worst_case_command",
            "Search each patient's most harmful stealthy attack (differential evolution).",
        ),
    },
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; its own help lists them from
    their summaries, without importing any."""

    def __init__(self, *args: object, lazy_commands: dict[str, LazyCommand], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            entry = self.lazy_commands[cmd_name]
            module = importlib.import_module(f"mdrisk.cli.{entry.module}")
            command = getattr(module, entry.attribute)
            for name, sub in SUBCOMMANDS.get(cmd_name, {}).items():
                sub_module = importlib.import_module(f"mdrisk.cli.{sub.module}")
                command.add_command(getattr(sub_module, sub.attribute), name)
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._short_help(ctx, name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str, limit: int) -> str:
        if name in self.lazy_commands and name not in self.commands:
            return click.utils.make_default_short_help(self.lazy_commands[name].summary, limit)
        command = self.get_command(ctx, name)
        return command.get_short_help_str(limit) if command else ""


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="mdrisk")
def main() -> None:
    """Premarket cybersecurity risk assessment of AI/ML-enabled medical devices.

    Describe a device as a control structure (YAML), then validate, analyze (STPA-Sec) and
    draw it. Try 'mdrisk demo' for the whole chain on the built-in glucose device.
    """
