"""Evasion of the glucose forecaster the reference device declares (issue 14, item 4).

* :mod:`.models`: gradient-boosted trees and the ridge baseline, each trained on patients
  held out from the one it forecasts (two-fold cross-fitting over the 30 virtual patients);
* :mod:`.accuracy`: their accuracy on the 30 evaluation patients;
* :mod:`.capability`: what the attacker at the CGM link controls (the CGM-history features,
  within the declared range and a rate limit); :mod:`.history`: those features as a history
  whose rate limit is a box;
* :mod:`.attacker`: the evasion attacker inside the closed loop (a signal tap on ``cgm``);
* :mod:`.closed_loop`: clean, evaded and output-biased runs of the 30 patients, and their harm;
* :mod:`.offline`: the attack at single decision points with the Adversarial Robustness
  Toolbox (HopSkipJump) against an exact search, with and without the constraints;
* :mod:`.influence`: the signed influence of each model input, measured from the model;
* :mod:`.records`: the results as flat records for the assessment's ``ml_attacks`` section.
"""
