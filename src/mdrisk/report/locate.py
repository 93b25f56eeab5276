"""Where a finding stands in the device-model file: the line of its element, from the line map
the assessment carries (``Assessment.model_lines``)."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from mdrisk.assessment import Assessment
from mdrisk.report.sbom_summary import technology_label


class Locator:
    """Model paths and lines of elements, control actions and technologies."""

    def __init__(self, assessment: Assessment) -> None:
        self.lines = assessment.model_lines
        self.paths: dict[str, str] = {}
        for component in assessment.device.components:
            self.paths[component.id] = f"components[{component.id}]"
        for link in assessment.device.links:
            self.paths[link.id] = f"links[{link.id}]"
        for loss in assessment.device.losses:
            self.paths[loss.id] = f"losses[{loss.id}]"
        for hazard in assessment.device.hazards:
            self.paths[hazard.id] = f"hazards[{hazard.id}]"
        for action in assessment.control_actions:
            self.paths.setdefault(action.id, f"links[{action.link}]")
        self.technologies: dict[tuple[str, str], str] = {}
        for component in assessment.device.components:
            for index, technology in enumerate(component.technologies):
                self.technologies[(component.id, technology_label(technology))] = (
                    f"components[{component.id}].technologies[{index}]"
                )
        for link in assessment.device.links:
            if link.channel.technology is not None:
                self.technologies[(link.id, technology_label(link.channel.technology))] = (
                    f"links[{link.id}].channel.technology"
                )

    def path_of(self, element: str, technology: str | None = None) -> str | None:
        if technology is not None:
            found = self.technologies.get((element, technology))
            if found is not None:
                return found
        return self.paths.get(element)

    def line_of(self, element: str, technology: str | None = None) -> int | None:
        """The line of the technology (when given and known), else of the element."""
        for path in (self.path_of(element, technology), self.paths.get(element)):
            if path is not None and path in self.lines:
                return self.lines[path]
        return None

    def first_line(self, elements: list[str]) -> tuple[str | None, int | None]:
        """The first of ``elements`` that has a line, and that line."""
        for element in elements:
            line = self.line_of(element)
            if line is not None:
                return element, line
        return (elements[0] if elements else None), None


def artifact_uri(model_file: str) -> tuple[str, bool]:
    """(URI of the model file, whether it is relative to the analysis root)."""
    windows = PureWindowsPath(model_file)
    if windows.drive:
        return windows.as_uri(), False
    path = PurePosixPath(model_file)
    if path.is_absolute():
        return path.as_uri(), False
    return quote(path.as_posix()), True
