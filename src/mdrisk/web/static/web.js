// The workbench's only script: live validation of the model editor and the progress of an
// analysis (server-sent events). Text from the server is set with textContent, never as HTML.
"use strict";

function csrfToken() {
  const field = document.querySelector("input[name=csrf_token]");
  return field ? field.value : "";
}

function showProblems(box, result) {
  box.textContent = "";
  box.className = "live";
  if (result.valid) {
    box.classList.add("ok");
    box.textContent = "Valid: " + result.components + " components, " + result.links + " links.";
    return;
  }
  const list = document.createElement("ul");
  list.className = "problems";
  for (const problem of result.problems) {
    const item = document.createElement("li");
    item.className = "problem";
    let text = problem.line ? "line " + problem.line + ": " : "";
    text += problem.field ? problem.field + ": " : "";
    text += problem.message;
    if (problem.fix) text += " (fix: " + problem.fix + ")";
    item.textContent = text;
    list.appendChild(item);
  }
  box.appendChild(list);
}

function liveValidation(area) {
  const box = document.getElementById("live-problems");
  let timer = null;
  let sent = 0;
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const number = ++sent;
      try {
        const response = await fetch(area.dataset.validateUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
          body: JSON.stringify({ text: area.value }),
          credentials: "same-origin",
        });
        if (number !== sent) return;
        if (response.ok) showProblems(box, await response.json());
      } catch (error) {
        box.textContent = "";
      }
    }, 500);
  });
}

function followRun(panel) {
  const list = document.getElementById("run-events");
  const state = document.getElementById("run-state");
  const result = document.getElementById("run-result");
  const cancel = document.getElementById("cancel-form");
  const source = new EventSource(panel.dataset.eventsUrl);
  let shown = list.children.length;
  let number = 0;
  function add(event, finished) {
    const data = JSON.parse(event.data);
    number += 1;
    if (number > shown) {
      const item = document.createElement("li");
      item.className = "event-" + data.kind;
      item.textContent = data.text;
      list.appendChild(item);
      shown = number;
    }
    if (finished) {
      source.close();
      state.textContent = finished;
      panel.dataset.state = finished;
      if (cancel) cancel.remove();
      if (data.assessment) {
        const link = document.createElement("a");
        link.href = "/assessments/" + data.assessment;
        link.id = "register-link";
        link.textContent = "Open the risk register";
        result.textContent = "";
        result.appendChild(link);
      }
    }
  }
  source.addEventListener("step", (e) => add(e, null));
  source.addEventListener("note", (e) => add(e, null));
  source.addEventListener("done", (e) => add(e, "done"));
  source.addEventListener("error", (e) => { if (e.data) add(e, "failed"); else source.close(); });
  source.addEventListener("cancelled", (e) => add(e, "cancelled"));
}

document.addEventListener("DOMContentLoaded", () => {
  const area = document.getElementById("model-text");
  if (area && area.dataset.validateUrl) liveValidation(area);
  const panel = document.getElementById("progress");
  if (panel && panel.dataset.state === "running") followRun(panel);
});
