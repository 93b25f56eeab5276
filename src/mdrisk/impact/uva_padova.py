"""The UVA/Padova type 1 diabetes patient model, vectorised over a batch of virtual patients.

This is the model exactly as ``simglucose.patient.t1dpatient.T1DPatient`` implements it
(simglucose 0.2.11): the same 13 states, the same right-hand side, the same meal intake. Only
the solver differs: simglucose integrates each patient alone with scipy's adaptive ``dopri5``
(rtol 1e-6) one minute at a time; here every patient of a batch advances together with a
fixed-step classical Runge-Kutta (RK4) of ``substeps`` steps per minute, the inputs held
constant over each minute as simglucose holds them. One step per minute (the default) keeps
the BG of all 30 patients within 0.2 mg/dL of simglucose over a day of meals under the
basal-bolus controller (tests/test_impact_fidelity.py), and within 0.21 mg/dL of a 8-step
solution in attack variants that drive BG from 0 to over 1,000 mg/dL; two steps give about
0.02 mg/dL at twice the cost. The state lives in an array of shape
``(13, batch)`` so that each state variable is one contiguous row; :attr:`state` shows it as
``(batch, 13)``.

States (units as in simglucose):

==  ======  ==========================================================
 0  Qsto1   stomach, solid (mg)
 1  Qsto2   stomach, liquid (mg)
 2  Qgut    intestine (mg)
 3  Gp      plasma glucose (mg/kg)
 4  Gt      tissue glucose (mg/kg)
 5  Ip      plasma insulin (pmol/kg)
 6  X       insulin action on glucose utilisation (pmol/L)
 7  I1      delayed insulin signal (pmol/L)
 8  Id      delayed insulin action on production (pmol/L)
 9  Il      liver insulin (pmol/kg)
10  Isc1    subcutaneous insulin, compartment 1 (pmol/kg)
11  Isc2    subcutaneous insulin, compartment 2 (pmol/kg)
12  Gs      subcutaneous glucose (mg/kg)
==  ======  ==========================================================

Inputs, per minute: insulin in U/min (converted to pmol/kg/min as ``U * 6000 / BW``) and the
carbohydrate announced to the patient in that minute, in grams. As in simglucose the patient
eats an announced meal at 5 g/min (``EAT_RATE``); when eating starts, the stomach content
``Qsto1 + Qsto2`` is remembered (``_last_Qsto``) and the grams eaten since are counted
(``_last_foodtaken``); their sum ``Dbar`` shapes the gastric emptying rate ``kgut``.

The observation is simglucose's ``BG``: ``Gs / Vg`` (subcutaneous glucose, mg/dL), which
equals ``Gp / Vg`` at steady state and follows plasma glucose with a lag of ``1/ksc``
(7-20 min). :attr:`UvaPadovaBatch.plasma_glucose` gives ``Gp / Vg``.

simglucose multiplies the derivatives of states 3, 4, 5 and 9-12 by ``(x >= 0)``. For states
5 and 9-12 (insulin, subcutaneous glucose) that factor can never act: their equations form a
positive linear system driven by non-negative inputs (delivered insulin is clipped at zero,
``Gp`` is kept non-negative), so they are left out here; those of ``Gp`` and ``Gt`` are kept
because a deep hypoglycaemia can bring them to zero.
"""

from __future__ import annotations

import math

import numpy as np

from mdrisk.impact.params import PatientTable

EAT_RATE = 5.0  # g/min, simglucose's T1DPatient.EAT_RATE
N_STATES = 13
DEFAULT_SUBSTEPS = 1
_COUPLED = np.array([9, 5, 5, 7, 5, 10, 10, 3])  # the other state in each row of states 5-12


class UvaPadovaBatch:
    """A batch of virtual patients advancing one minute per :meth:`step_minute` call.

    ``patients`` gives one row per batch member; ``init_state`` (shape ``(batch, 13)``)
    replaces each patient's table initial state; ``substeps`` RK4 steps are taken per minute.
    """

    def __init__(
        self,
        patients: PatientTable,
        *,
        substeps: int = DEFAULT_SUBSTEPS,
        init_state: np.ndarray | None = None,
    ) -> None:
        if substeps < 1:
            raise ValueError("substeps must be at least 1")
        self.patients = patients
        self.size = len(patients)
        self.substeps = int(substeps)
        self.t_min = 0
        x0 = patients.x0 if init_state is None else np.asarray(init_state, dtype=float)
        if x0.shape != (self.size, N_STATES):
            raise ValueError(f"init_state must have shape ({self.size}, {N_STATES})")
        self._x = np.ascontiguousarray(x0.T, dtype=float)
        self._precompute(patients)
        # Meal intake, as simglucose's T1DPatient keeps it (per patient).
        self._planned_g = np.zeros(self.size)
        self._last_to_eat_g = np.zeros(self.size)
        self._last_qsto_mg = self._x[0] + self._x[1]
        self._food_taken_g = np.zeros(self.size)
        self._meal_rate_mg = np.zeros(self.size)  # d in the model, mg/min, this minute
        self._minutes_of_eating_left = 0
        self._update_gastric_shape()

    # -- parameters ---------------------------------------------------------------------
    def _precompute(self, patients: PatientTable) -> None:
        p = patients.params
        self._kmax = p["kmax"]
        self._kmin = p["kmin"]
        self._half_dk = (p["kmax"] - p["kmin"]) / 2.0
        self._kabs = p["kabs"]
        self._f_over_bw = p["f"] / p["BW"]
        self._kp1, self._kp2, self._kp3 = p["kp1"], p["kp2"], p["kp3"]
        self._fsnc = p["Fsnc"]
        self._ke1, self._ke2 = p["ke1"], p["ke2"]
        self._k1, self._k2 = p["k1"], p["k2"]
        self._vm0, self._vmx, self._km0 = p["Vm0"], p["Vmx"], p["Km0"]
        self._m1, self._m2 = p["m1"], p["m2"]
        self._m2_m4 = p["m2"] + p["m4"]
        self._m1_m30 = p["m1"] + p["m30"]
        self._ka1, self._ka2, self._kd = p["ka1"], p["ka2"], p["kd"]
        self._ka1_kd = p["ka1"] + p["kd"]
        self._inv_vi = 1.0 / p["Vi"]
        self._ib = p["Ib"]
        self._p2u = p["p2u"]
        self._ki = p["ki"]
        self._ksc = p["ksc"]
        self._inv_vg = 1.0 / p["Vg"]
        self._u_to_pmol_per_kg = 6000.0 / p["BW"]
        self._b, self._d = p["b"], p["d"]
        # States 5-12 are linear: dx[5:13] = diag * x[5:13] + coupling * x[_COUPLED] + forcing,
        # plus ka1*x10 + ka2*x11 for state 5. Done as whole-block operations to keep the number
        # of numpy calls (the cost at these batch sizes) small.
        self._diag = np.array(
            [
                -self._m2_m4,
                -self._p2u,
                -self._ki,
                -self._ki,
                -self._m1_m30,
                -self._ka1_kd,
                -self._ka2,
                -self._ksc,
            ]
        )
        zero = np.zeros(self.size)
        self._coupling = np.array(
            [
                self._m1,
                self._p2u * self._inv_vi,
                self._ki * self._inv_vi,
                self._ki,
                self._m2,
                zero,
                self._kd,
                self._ksc,
            ]
        )
        self._forcing = np.array([zero, -self._p2u * self._ib, zero, zero, zero, zero, zero, zero])

    def _update_gastric_shape(self) -> None:
        """Coefficients of kgut for this minute, from ``Dbar = last_Qsto + foodtaken*1000``.

        Where ``Dbar`` is 0 simglucose uses ``kgut = kmax``; zero slopes give exactly that
        (``kmin + (kmax - kmin) / 2 * (0 - 0 + 2)``).
        """
        dbar = self._last_qsto_mg + self._food_taken_g * 1000.0
        positive = dbar > 0
        safe = np.where(positive, dbar, 1.0)
        self._aa = np.where(positive, 5.0 / (2.0 * safe * (1.0 - self._b)), 0.0)
        self._cc = np.where(positive, 5.0 / (2.0 * safe * self._d), 0.0)
        self._b_dbar = np.where(positive, self._b * dbar, 0.0)
        self._d_dbar = np.where(positive, self._d * dbar, 0.0)

    # -- observation ----------------------------------------------------------------------
    @property
    def state(self) -> np.ndarray:
        """The state, shape ``(batch, 13)`` (a read-only view)."""
        view = self._x.T
        view.flags.writeable = False
        return view

    @property
    def bg(self) -> np.ndarray:
        """simglucose's BG, mg/dL: subcutaneous glucose ``x[12] / Vg``, shape ``(batch,)``."""
        return self._x[12] * self._inv_vg

    @property
    def plasma_glucose(self) -> np.ndarray:
        """Plasma glucose ``x[3] / Vg``, mg/dL, shape ``(batch,)``."""
        return self._x[3] * self._inv_vg

    # -- dynamics ---------------------------------------------------------------------------
    def _derivative(self, x: np.ndarray) -> np.ndarray:
        x0, x1, x2, x3, x4, _, x6, _, x8, _, x10, x11, _ = x
        dx = np.empty_like(x)
        qsto = x0 + x1
        kgut = self._kmin + self._half_dk * (
            np.tanh(self._aa * (qsto - self._b_dbar))
            - np.tanh(self._cc * (qsto - self._d_dbar))
            + 2.0
        )
        kmax_x0 = self._kmax * x0
        kgut_x1 = kgut * x1
        kabs_x2 = self._kabs * x2
        dx[0] = self._meal_rate_mg - kmax_x0
        dx[1] = kmax_x0 - kgut_x1
        dx[2] = kgut_x1 - kabs_x2
        # Glucose: production (non-negative), appearance, utilisation, renal excretion.
        egp = self._kp1 - self._kp2 * x3 - self._kp3 * x8
        np.maximum(egp, 0.0, out=egp)
        renal = x3 - self._ke2
        np.maximum(renal, 0.0, out=renal)
        k1_x3 = self._k1 * x3
        k2_x4 = self._k2 * x4
        dgp = egp + self._f_over_bw * kabs_x2 - self._fsnc - self._ke1 * renal - k1_x3 + k2_x4
        dgp *= x3 >= 0
        dx[3] = dgp
        uptake = (self._vm0 + self._vmx * x6) * x4 / (self._km0 + x4)
        dgt = k1_x3 - k2_x4 - uptake
        dgt *= x4 >= 0
        dx[4] = dgt
        # Insulin kinetics and action, subcutaneous glucose: the linear block.
        linear = dx[5:]
        np.multiply(self._diag, x[5:], out=linear)
        linear += self._coupling * x[_COUPLED]
        linear += self._forcing
        dx[5] += self._ka1 * x10 + self._ka2 * x11
        return dx

    def _eat(self, meal_g: np.ndarray | None) -> None:
        """simglucose's ``_announce_meal`` and eating detection, for one minute."""
        if meal_g is not None:
            self._planned_g = self._planned_g + meal_g
            longest = float(np.max(self._planned_g)) if self.size else 0.0
            # Eating takes ceil(planned / rate) minutes, then one minute with nothing eaten
            # to close the meal; after that nothing changes until the next announcement.
            self._minutes_of_eating_left = max(
                self._minutes_of_eating_left, math.ceil(longest / EAT_RATE) + 1
            )
        if self._minutes_of_eating_left == 0:
            return
        self._minutes_of_eating_left -= 1
        to_eat = np.clip(self._planned_g, 0.0, EAT_RATE)
        self._planned_g = np.maximum(self._planned_g - to_eat, 0.0)
        starts = (to_eat > 0) & (self._last_to_eat_g <= 0)
        if starts.any():
            self._last_qsto_mg = np.where(starts, self._x[0] + self._x[1], self._last_qsto_mg)
            self._food_taken_g = np.where(starts, 0.0, self._food_taken_g)
        self._food_taken_g = self._food_taken_g + to_eat
        self._last_to_eat_g = to_eat
        self._meal_rate_mg = to_eat * 1000.0
        self._update_gastric_shape()

    def step_minute(self, insulin_u_per_min: np.ndarray, meal_g: np.ndarray | None = None) -> None:
        """Advance every patient by one minute.

        ``insulin_u_per_min``: delivered insulin, U/min, shape ``(batch,)`` (negative values
        are treated as 0: a pump cannot withdraw insulin). ``meal_g``: carbohydrate announced
        to the patient at this minute, grams, shape ``(batch,)``, or ``None`` for none.
        """
        self._eat(meal_g)
        insulin = np.maximum(insulin_u_per_min, 0.0)
        self._forcing[5] = insulin * self._u_to_pmol_per_kg  # pmol/kg/min into Isc1
        h = 1.0 / self.substeps
        half = 0.5 * h
        sixth = h / 6.0
        x = self._x
        derivative = self._derivative
        for _ in range(self.substeps):
            k1 = derivative(x)
            k2 = derivative(x + half * k1)
            k3 = derivative(x + half * k2)
            k4 = derivative(x + h * k3)
            k2 += k3
            k2 *= 2.0
            k2 += k1
            k2 += k4
            k2 *= sixth
            x = x + k2
        self._x = x
        self.t_min += 1
