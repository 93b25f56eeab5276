"""Campaigns: simulation and attack sweeps over many patient-days, run on Dask.

A campaign file (:mod:`.spec`) names a device model, the loss-scenario classes the glucose
simulator stands for, attack parameter ranges, patients, Monte Carlo days, detectors,
candidate controls and a seed. :mod:`.plan` expands it into tasks (one scenario class x one
attack x a block of patients x a block of days, each carrying a few hundred patient-days so
the vectorised simulator amortises the scheduling); :mod:`.batch` runs one task;
:mod:`.executors` runs many, in this process or on a Dask cluster; :mod:`.store` keeps one
row per finished task in SQLite (a stopped campaign resumes where it stopped);
:mod:`.aggregate` turns the rows into harm distributions per class and control, and
:mod:`.measured` into the measured severity the risk register reads.
"""
