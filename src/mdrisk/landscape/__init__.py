"""The threat landscape of AI-enabled medical devices, from public data.

Before assessing one device an analyst wants the picture the research starts from: which
AI-enabled devices FDA lists, which have adverse-event reports or recalls and how soon after
clearance, which of those reports involve software, cybersecurity or the ML function, which
makers and technologies appear in CISA medical advisories, and how many of the advisories'
CVEs are known to be exploited (KEV).

Flow: ``importers/`` (one module per file format; malformed files raise InputError naming
file and record) -> ``sources.load_corpus`` (every file of the data folder) ->
``analysis.analyse`` (pure functions over typed records, linked by submission number,
product code and normalised maker names) -> ``tables``, ``plots``, ``html`` (the output
folder, rendered in memory by ``package.render_package``). ``sync`` fetches openFDA records.
"""
