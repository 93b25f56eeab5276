"""Large, valid, realistic device models made to order, for benchmarks and scale tests.

A generated model is a reference device scaled up: a hospital-wide (or fleet-wide) system of
*sites*, one per ML engine. In each site, sensors and imaging devices measure the patients'
physiological processes and report through gateways to apps; the apps feed the site's ML
engine and summarise to a shared cloud; the engine's outputs reach the site's controllers,
which command actuators acting on the processes, alert clinicians and take their
confirmations; the actuators report status back. Clouds relay therapy settings, archive to
storage, feed EHRs and ship model updates. Some engines consume another engine's output.

Control loops (controller -> actuator -> process -> sensor -> gateway -> app -> engine ->
controller, controller <-> clinician, app -> cloud -> engine) are cycles on purpose. Data
links between random pairs, forwarding what the sender holds, make up the requested link
count. The same arguments always give the same model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import yaml

from mdrisk.model.schema import DeviceModel

_VITALS = (
    ("glucose", "mg/dL", (40.0, 400.0)),
    ("heart_rate", "bpm", (20.0, 250.0)),
    ("spo2", "%", (50.0, 100.0)),
    ("blood_pressure", "mmHg", (30.0, 250.0)),
    ("respiration_rate", "breaths/min", (4.0, 60.0)),
    ("temperature", "degC", (30.0, 43.0)),
    ("ecg_rhythm", None, None),
    ("etco2", "mmHg", (0.0, 100.0)),
    ("intracranial_pressure", "mmHg", (-10.0, 80.0)),
    ("lactate", "mmol/L", (0.0, 20.0)),
)
_THERAPIES = (
    ("infusion pump", "insulin_infusion", ("deliver_bolus", "suspend_delivery")),
    ("ventilator", "ventilation", ("set_tidal_volume", "set_peep")),
    ("vasopressor pump", "vasopressor_infusion", ("titrate_rate", "stop_infusion")),
    ("neurostimulator", "stimulation", ("set_amplitude", "stop_stimulation")),
    ("dialysis machine", "dialysis", ("set_ultrafiltration", "stop_ultrafiltration")),
)
_TASKS = (
    ("Forecast glucose 30 minutes ahead", "forecasting", "gradient boosted trees"),
    ("Detect early sepsis from vital-sign trends", "classification", "recurrent neural network"),
    ("Predict respiratory deterioration", "classification", "logistic regression ensemble"),
    ("Estimate haemodynamic instability score", "regression", "transformer"),
    ("Detect arrhythmia episodes", "detection", "convolutional neural network"),
    ("Rank therapy adjustments", "ranking", "gradient boosted trees"),
)
_SENSOR_TECH: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("Bluetooth Low Energy", "4.2", {"pairing": "just_works"}),
    ("Bluetooth Low Energy", "5.0", {"pairing": "passkey"}),
    ("IEEE 802.15.4", "2015", {}),
    ("Wi-Fi", "802.11n", {"security": "WPA2-PSK"}),
)
_ML_RUNTIMES = (
    ("TensorFlow Lite", "Google", "2.13.0", "pkg:pypi/tensorflow@2.13.0"),
    ("ONNX Runtime", "Microsoft", "1.16.3", "pkg:pypi/onnxruntime@1.16.3"),
    ("PyTorch", "Meta", "2.1.2", "pkg:pypi/torch@2.1.2"),
)

# Share of the components left after engines, clouds, EHRs, storage and displays.
_SHARES = {
    "human": 0.05,
    "controller": 0.07,
    "actuator": 0.09,
    "process": 0.04,
    "app": 0.08,
    "gateway": 0.09,
    "imaging": 0.02,
}


@dataclass
class _Builder:
    rng: random.Random
    components: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind_of: dict[str, str] = field(default_factory=dict)
    # Signals each component holds (receives or emits), in first-seen order.
    holds: dict[str, dict[str, None]] = field(default_factory=dict)
    received: dict[str, dict[str, None]] = field(default_factory=dict)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def add_component(self, prefix: str, kind: str, name: str, **extra: Any) -> str:
        number = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = number
        component_id = f"{prefix}_{number:04d}"
        entry = {"id": component_id, "name": f"{name} {number}", "kind": kind, **extra}
        self.components.append(entry)
        self.by_id[component_id] = entry
        self.kind_of[component_id] = kind
        self.holds[component_id] = {}
        self.received[component_id] = {}
        return component_id

    def emit(self, component_id: str, signal: str) -> None:
        self.holds[component_id][signal] = None

    def link(
        self,
        source: str,
        target: str,
        kind: str,
        carries: list[Any],
        channel: dict[str, Any] | None = None,
        description: str = "",
    ) -> str:
        link_id = f"link_{len(self.links) + 1:05d}"
        entry: dict[str, Any] = {
            "id": link_id,
            "from": source,
            "to": target,
            "kind": kind,
            "carries": carries,
        }
        if description:
            entry["description"] = description
        entry["channel"] = channel if channel is not None else self.channel(source, target)
        self.links.append(entry)
        self.pairs.add((source, target))
        for signal in carries:
            name = signal if isinstance(signal, str) else signal["name"]
            self.received[target][name] = None
            if kind != "control_action":  # a command is acted on, not passed on as data
                self.holds[target][name] = None
        return link_id

    def channel(self, source: str, target: str) -> dict[str, Any]:
        kinds = {self.kind_of[source], self.kind_of[target]}
        rng = self.rng
        if "controlled_process" in kinds:
            return {}
        if "cloud" in kinds or "ehr" in kinds or "storage" in kinds:
            return {
                "technology": {"name": "HTTPS", "version": "TLS 1.2"},
                "protections": {
                    "encryption": True,
                    "authentication": True,
                    "integrity": True,
                    "replay_protection": rng.random() < 0.5,
                },
            }
        if "sensor" in kinds or "actuator" in kinds or "imaging_device" in kinds:
            name, version, config = _SENSOR_TECH[rng.randrange(len(_SENSOR_TECH))]
            return {
                "technology": {"name": name, "version": version, "config": dict(config)},
                "protections": {
                    "encryption": rng.random() < 0.7,
                    "authentication": rng.random() < 0.4,
                    "integrity": rng.random() < 0.6,
                },
            }
        if "human" in kinds or "display" in kinds:
            return {"technology": {"name": "Touchscreen entry"}}
        return {
            "technology": {"name": "MQTT over TLS", "version": "3.1.1"},
            "protections": {
                "encryption": True,
                "authentication": rng.random() < 0.8,
                "integrity": rng.random() < 0.8,
            },
        }


def _spread(count: int, sites: int) -> list[list[int]]:
    """Indices 0..count-1 dealt round-robin to the sites (site e gets e, e+sites, ...)."""
    return [list(range(site, count, sites)) for site in range(sites)]


def _counts(components: int, engines: int) -> dict[str, int]:
    counts = {
        "engine": engines,
        "cloud": max(1, components // 100),
        "ehr": components // 200,
        "storage": components // 200,
        "display": components // 100,
    }
    rest = components - sum(counts.values())
    for role, share in _SHARES.items():
        floor = 0 if role in ("gateway", "imaging") else engines
        counts[role] = max(floor, round(share * rest))
    counts["sensor"] = components - sum(counts.values())
    if counts["sensor"] < engines:
        raise ValueError(
            f"{components} components are too few for {engines} ML engines: each engine's site "
            "needs a process, sensor, app, controller, actuator and person of its own"
        )
    return counts


def generate_model(
    components: int, links: int, seed: int = 0, ml_engines: int | None = None
) -> DeviceModel:
    """A valid device model with exactly ``components`` components and ``links`` links.

    ``ml_engines`` defaults to one per 50 components. Raises ValueError when the numbers
    cannot make a connected device (too few components per engine, or fewer links than the
    control structure itself needs; the message gives the minimum).
    """
    engines = max(1, components // 50) if ml_engines is None else ml_engines
    if engines < 1:
        raise ValueError("a generated model needs at least one ML engine")
    counts = _counts(components, engines)
    rng = random.Random(seed)
    b = _Builder(rng)
    sites = range(engines)

    # Losses and hazards: three hazards per site (too much therapy, too little, missed alert)
    # and one for the data.
    losses = [
        {
            "id": "L-1",
            "description": "Death or serious injury of a patient",
            "severity": "catastrophic",
        },
        {
            "id": "L-2",
            "description": "Harm to a patient that needs medical intervention",
            "severity": "serious",
        },
        {"id": "L-3", "description": "Disclosure of patients' health data", "severity": "minor"},
        {
            "id": "L-4",
            "description": "Loss of trust in the monitoring service",
            "severity": "minor",
        },
    ]
    hazards: list[dict[str, Any]] = []
    site_hazards: list[tuple[str, str, str]] = []
    for site in sites:
        ids = (f"H-{3 * site + 1}", f"H-{3 * site + 2}", f"H-{3 * site + 3}")
        hazards += [
            {
                "id": ids[0],
                "description": f"Site {site + 1}: more therapy is delivered than the "
                "patient's state calls for",
                "losses": ["L-1", "L-2"],
            },
            {
                "id": ids[1],
                "description": f"Site {site + 1}: less therapy is delivered than the patient needs",
                "losses": ["L-1", "L-2"],
            },
            {
                "id": ids[2],
                "description": f"Site {site + 1}: a deterioration is not announced "
                "to the clinician in time",
                "losses": ["L-1", "L-2", "L-4"],
            },
        ]
        site_hazards.append(ids)
    hazards.append(
        {
            "id": f"H-{3 * engines + 1}",
            "description": "Health data leaves the hospital's control unprotected",
            "losses": ["L-3"],
        }
    )

    # Components, dealt to sites round-robin so every site has at least one of each role.
    def dealt(role: str) -> list[list[int]]:
        return _spread(counts[role], engines)

    clouds = [
        b.add_component(
            "cloud",
            "cloud",
            "Monitoring cloud",
            zone="vendor cloud",
            technologies=[
                {"name": "HTTPS REST API", "version": "TLS 1.2"},
                {"name": "Amazon Web Services", "vendor": "Amazon", "product": "AWS"},
            ],
        )
        for _ in range(counts["cloud"])
    ]
    ehrs = [
        b.add_component(
            "ehr",
            "ehr",
            "Hospital EHR",
            zone="hospital",
            technologies=[{"name": "HL7 FHIR server", "version": "R4"}],
        )
        for _ in range(counts["ehr"])
    ]
    stores = [
        b.add_component("store", "storage", "Training data lake", zone="vendor cloud")
        for _ in range(counts["storage"])
    ]
    displays = [
        b.add_component("display", "display", "Central station display", zone="hospital")
        for _ in range(counts["display"])
    ]

    site_data: list[dict[str, Any]] = []
    for site in sites:
        kinds_at_site = rng.sample(range(len(_VITALS)), k=min(len(_VITALS), rng.randint(3, 5)))
        task = _TASKS[site % len(_TASKS)]
        therapy = _THERAPIES[site % len(_THERAPIES)]
        site_data.append(
            {
                "vitals": kinds_at_site,
                "task": task,
                "therapy": therapy,
                "zone": f"ward {site + 1}",
                "cloud": clouds[site % len(clouds)],
            }
        )

    per_site: dict[str, list[list[str]]] = {}
    role_specs = (
        ("process", "proc", "controlled_process", "Patient physiology"),
        ("sensor", "sensor", "sensor", "Bedside sensor"),
        ("imaging", "imaging", "imaging_device", "Imaging device"),
        ("gateway", "gateway", "gateway", "Ward gateway"),
        ("app", "app", "app", "Monitoring app"),
        ("controller", "ctrl", "controller", "Therapy controller"),
        ("actuator", "act", "actuator", "Therapy actuator"),
        ("human", "person", "human", "Clinician"),
    )
    for role, prefix, kind, name in role_specs:
        per_site[role] = [[] for _ in sites]
        for site, indices in enumerate(dealt(role)):
            zone = site_data[site]["zone"]
            for _ in indices:
                extra: dict[str, Any] = {"zone": zone}
                label = name
                if kind in ("sensor", "imaging_device"):
                    tech, version, config = _SENSOR_TECH[rng.randrange(len(_SENSOR_TECH))]
                    extra["technologies"] = [
                        {"name": tech, "version": version, "config": dict(config)},
                        {
                            "name": f"{name} firmware",
                            "vendor": "Example Sensors Ltd.",
                            "version": f"{rng.randint(1, 4)}.{rng.randint(0, 9)}",
                        },
                    ]
                elif kind == "actuator":
                    therapy_label = site_data[site]["therapy"][0]
                    version = f"{rng.randint(1, 9)}.{rng.randint(0, 9)}"
                    extra["technologies"] = [
                        {
                            "name": f"{therapy_label} firmware",
                            "vendor": "Example Devices Inc.",
                            "version": version,
                        }
                    ]
                    label = therapy_label.capitalize()
                elif kind in ("gateway", "app", "controller"):
                    extra["technologies"] = [{"name": "Embedded Linux", "version": "5.15"}]
                per_site[role][site].append(b.add_component(prefix, kind, label, **extra))

    engine_ids: list[str] = []
    for site in sites:
        engine_ids.append(
            b.add_component("ml", "ml_engine", "ML engine", zone=site_data[site]["zone"])
        )

    # Measurement: each sensor measures one process of its site and sends it to a collector
    # (a gateway or an app of the site); gateways forward everything to an app.
    for site in sites:
        data = site_data[site]
        processes = per_site["process"][site]
        measuring = per_site["sensor"][site] + per_site["imaging"][site]
        collectors = per_site["gateway"][site] + per_site["app"][site]
        apps = per_site["app"][site]
        vitals = data["vitals"]
        used: dict[str, None] = {}
        for j, sensor in enumerate(measuring):
            if b.kind_of[sensor] == "imaging_device":
                signal = f"image_s{site + 1}"
                physical = "tissue_image"
            else:
                vital = _VITALS[vitals[j % len(vitals)]]
                signal = f"{vital[0]}_s{site + 1}"
                physical = f"{vital[0]}_level"
            used[signal] = None
            b.link(
                processes[j % len(processes)],
                sensor,
                "feedback",
                [physical],
                description="Physical measurement.",
            )
            b.emit(sensor, signal)
            b.link(sensor, collectors[j % len(collectors)], "data", [signal])
        data["inputs"] = list(used)
        for j, gateway in enumerate(per_site["gateway"][site]):
            b.emit(gateway, f"heartbeat_{gateway}")
            b.link(gateway, apps[j % len(apps)], "data", list(b.holds[gateway]))

    # Engines: inputs are the site's measured signals, plus now and then an earlier engine's
    # output (a model chained on another's score).
    outputs: list[list[str]] = []
    for site in sites:
        names = [f"risk_score_s{site + 1}"]
        if rng.random() < 0.5:
            names.append(f"trend_s{site + 1}")
        outputs.append(names)
    chained: dict[int, int] = {}
    for site in sites:
        if site > 0 and rng.random() < 0.3:
            chained[site] = rng.randrange(site)
    update_links: dict[int, str] = {}
    for site in sites:
        data = site_data[site]
        engine = engine_ids[site]
        for app in per_site["app"][site]:
            feeding = [s for s in data["inputs"] if s in b.holds[app]]
            if feeding:
                b.link(
                    app,
                    engine,
                    "data",
                    feeding,
                    channel={"technology": {"name": "In-process call"}},
                )
        if site in chained:
            upstream = chained[site]
            b.link(engine_ids[upstream], engine, "data", [outputs[upstream][0]])
        for name in outputs[site]:
            b.emit(engine, name)

    # Apps summarise to the site's cloud; the cloud derives each engine's next model from the
    # summaries, ships it as an update, and archives to storage and the EHR.
    cloud_derives: dict[str, dict[str, list[str]]] = {cloud: {} for cloud in clouds}
    for site in sites:
        cloud = site_data[site]["cloud"]
        summaries = []
        for app in per_site["app"][site]:
            sources = list(b.received[app])
            summary = f"summary_{app}"
            b.emit(app, summary)
            b.by_id[app]["derives"] = {summary: sources}
            b.link(app, cloud, "data", [summary])
            summaries.append(summary)
        model_signal = f"model_s{site + 1}"
        cloud_derives[cloud][model_signal] = summaries
        b.emit(cloud, model_signal)
        update_links[site] = b.link(
            cloud,
            engine_ids[site],
            "update",
            [model_signal],
            description="New model versions are pushed at night.",
        )
    for j, store in enumerate(stores):
        cloud = clouds[j % len(clouds)]
        archived = [s for s in b.received[cloud] if s.startswith("summary_")][:1]
        if archived:
            b.link(cloud, store, "data", archived)
        b.emit(store, f"training_set_{store}")
        b.link(store, cloud, "data", [f"training_set_{store}"])
    for j, ehr in enumerate(ehrs):
        cloud = clouds[j % len(clouds)]
        b.emit(ehr, f"record_{ehr}")
        shared = [s for s in b.received[cloud] if s.startswith("summary_")][:1]
        b.link(cloud, ehr, "data", shared or [next(iter(b.holds[cloud]))])

    # Control: engine outputs reach the site's controllers; controllers command actuators,
    # which act on processes and report status; clinicians are alerted and confirm.
    ca_index = 0
    for site in sites:
        data = site_data[site]
        over, under, missed = site_hazards[site]
        controllers = per_site["controller"][site]
        actuators = per_site["actuator"][site]
        humans = per_site["human"][site]
        processes = per_site["process"][site]
        therapy_label, delivery, commands = data["therapy"]
        cloud = data["cloud"]
        settings = f"therapy_settings_s{site + 1}"
        b.emit(humans[0], settings)
        b.link(
            humans[0],
            cloud,
            "control_action",
            [
                {
                    "name": settings,
                    "description": "Targets and limits for the site's therapy",
                    "hazards": [over, under],
                }
            ],
        )
        for controller in controllers:
            b.link(engine_ids[site], controller, "data", list(outputs[site]))
            b.link(cloud, controller, "data", [settings])
        for j, actuator in enumerate(actuators):
            controller = controllers[j % len(controllers)]
            action_signals = []
            for command in commands[: rng.randint(1, len(commands))]:
                ca_index += 1
                action_signal: dict[str, Any] = {"name": command, "hazards": [over, under]}
                if ca_index % 3 == 0:
                    action_signal["unsafe_when"] = {
                        "provided_unsafe": {
                            "context": f"the patient's state does not call "
                            f"for {command.replace('_', ' ')}",
                            "hazards": [over],
                        },
                        "not_provided": {
                            "context": f"the patient's state calls for "
                            f"{command.replace('_', ' ')} and none is given",
                            "hazards": [under],
                        },
                    }
                action_signals.append(action_signal)
            b.link(controller, actuator, "control_action", action_signals)
            b.link(
                actuator,
                processes[j % len(processes)],
                "control_action",
                [delivery],
                description=f"The {therapy_label} acts on the patient.",
            )
            status = f"status_{actuator}"
            b.emit(actuator, status)
            b.link(actuator, controller, "feedback", [status])
        for j, controller in enumerate(controllers):
            human = humans[j % len(humans)]
            alert = f"alert_{controller}"
            b.link(
                controller,
                human,
                "control_action",
                [
                    {
                        "name": alert,
                        "description": "Alarm that the patient is deteriorating",
                        "hazards": [missed],
                    }
                ],
            )
            confirm = f"confirm_{controller}"
            b.emit(human, confirm)
            b.link(
                human,
                controller,
                "control_action",
                [
                    {
                        "name": confirm,
                        "description": "Clinician confirms or overrides the therapy",
                        "hazards": [over, under],
                    }
                ],
            )
    for j, display in enumerate(displays):
        all_controllers = [c for site_list in per_site["controller"] for c in site_list]
        controller = all_controllers[j % len(all_controllers)]
        status = next(s for s in b.received[controller] if s.startswith("status_"))
        b.link(controller, display, "data", [status])
        b.emit(display, status)
        viewer = [h for site_list in per_site["human"] for h in site_list][j % counts["human"]]
        b.link(display, viewer, "data", [status])
    for j, ehr in enumerate(ehrs):
        controller = per_site["controller"][j % engines][0]
        b.link(ehr, controller, "data", [f"record_{ehr}"])

    structural = len(b.links)
    if links < structural:
        raise ValueError(
            f"{components} components with {engines} ML engines need at least "
            f"{structural} links for their control structure; {links} asked"
        )

    # Make up the count with data links between random pairs: the sender forwards something it
    # holds (or its own telemetry); now and then a component that holds an engine's input
    # sends it to the engine directly.
    candidates = [c["id"] for c in b.components if c["kind"] != "controlled_process"]
    engine_inputs = {engine_ids[site]: site_data[site]["inputs"] for site in sites}
    attempts = 0
    while len(b.links) < links:
        attempts += 1
        if attempts > 100 * links:
            raise ValueError(f"could not place {links} links among {components} components")
        if rng.random() < 0.03:
            engine = engine_ids[rng.randrange(engines)]
            signal_name = rng.choice(engine_inputs[engine])
            holders = [
                c
                for c in candidates
                if signal_name in b.holds[c] and c != engine and (c, engine) not in b.pairs
            ]
            if not holders:
                continue
            b.link(rng.choice(holders), engine, "data", [signal_name])
            continue
        source = rng.choice(candidates)
        target = rng.choice(candidates)
        if source == target or (source, target) in b.pairs:
            continue
        if b.kind_of[target] == "ml_engine":
            continue
        held = list(b.holds[source])
        if held and rng.random() < 0.6:
            carries = sorted(set(rng.sample(held, k=min(len(held), rng.randint(1, 2)))))
        else:
            carries = [f"telemetry_{source}"]
            b.emit(source, carries[0])
        b.link(source, target, "data", carries)

    # Now that every link is placed, the beliefs and derivations that name them.
    by_id = b.by_id
    for site in sites:
        data = site_data[site]
        engine = engine_ids[site]
        inputs = list(data["inputs"])
        if site in chained:
            inputs.append(outputs[chained[site]][0])
        task, task_type, model_type = data["task"]
        runtime, vendor, version, purl = _ML_RUNTIMES[site % len(_ML_RUNTIMES)]
        by_id[engine]["technologies"] = [
            {
                "name": runtime,
                "vendor": vendor,
                "product": runtime,
                "version": version,
                "purl": purl,
            }
        ]
        ml_inputs = []
        for name in inputs:
            entry: dict[str, Any] = {"signal": name}
            input_vital = next((v for v in _VITALS if name.startswith(v[0] + "_s")), None)
            if input_vital is not None and input_vital[1] is not None:
                entry["unit"] = input_vital[1]
                if input_vital[2] is not None:
                    entry["range"] = list(input_vital[2])
            ml_inputs.append(entry)
        by_id[engine]["name"] = f"{task} (site {site + 1})"
        by_id[engine]["ml"] = {
            "task": task,
            "task_type": task_type,
            "model_type": model_type,
            "inputs": ml_inputs,
            "outputs": outputs[site],
            "training_data": [
                {
                    "source": "De-identified records of a clinical study population",
                    "description": "Frozen at release",
                },
                {
                    "source": data["cloud"],
                    "description": "Field summaries for the next version",
                    "continuous": True,
                },
            ],
            "update_path": [update_links[site]],
            "locked": rng.random() < 0.7,
        }
        for controller in per_site["controller"][site]:
            received = b.received[controller]
            variables = [
                {
                    "name": "patient_state",
                    "values": ["stable", "deteriorating", "critical"],
                    "from_signals": list(outputs[site]),
                },
                {"name": "therapy_parameters", "from_signals": [f"therapy_settings_s{site + 1}"]},
            ]
            statuses = [s for s in received if s.startswith("status_")]
            if statuses:
                variables.append(
                    {
                        "name": "actuator_state",
                        "values": ["idle", "delivering"],
                        "from_signals": statuses,
                    }
                )
            confirms = [s for s in received if s.startswith("confirm_")]
            if confirms:
                variables.append(
                    {
                        "name": "clinician_intent",
                        "values": ["confirm", "override"],
                        "from_signals": confirms,
                    }
                )
            by_id[controller]["process_model"] = variables
        for human in per_site["human"][site]:
            alerts = [s for s in b.received[human] if s.startswith("alert_")]
            if alerts:
                by_id[human]["process_model"] = [
                    {
                        "name": "patient_concern",
                        "values": ["none", "watch", "act"],
                        "from_signals": alerts,
                    }
                ]
    for cloud, derives in cloud_derives.items():
        if derives:
            by_id[cloud]["derives"] = derives

    document = {
        "schema_version": 1,
        "device": {
            "name": f"Generated hospital monitoring system ({components} components, "
            f"{links} links, seed {seed})",
            "manufacturer": "mdrisk benchmark generator",
            "description": f"{engines} wards, each with its own ML engine, sharing "
            f"{len(clouds)} cloud platform(s).",
            "intended_use": "Benchmark and scale testing of the STPA-Sec analysis.",
            "data_use": ["therapy", "diagnosis", "personal_health_data"],
        },
        "components": b.components,
        "links": b.links,
        "losses": losses,
        "hazards": hazards,
    }
    return DeviceModel.model_validate(document)


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes every value out in full: the loader refuses anchors and aliases. Uses libyaml's
    emitter where PyYAML has it, which is several times faster on large models."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _compact(link: dict[str, Any]) -> dict[str, Any]:
    link["carries"] = [
        signal["name"] if set(signal) == {"name"} else signal for signal in link["carries"]
    ]
    return link


def model_to_yaml(model: DeviceModel) -> str:
    """The model as device-model YAML that ``load_model_text`` reads back to an equal model."""
    data = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    document = {"schema_version": model.schema_version, **data}
    document["links"] = [_compact(link) for link in document.get("links", [])]
    return yaml.dump(
        document, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100
    )
