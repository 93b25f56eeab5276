"""Online sync: fetch the knowledge-base sources from their public homes, then import them.

Nothing else in mdrisk needs the network. Each source is one module here defining a
``Source`` (see ``base``); ``registry`` finds them. Downloads go to
``$MDRISK_HOME/downloads/<source>/``, are written atomically, and are imported with
``kb.importing.import_paths`` in one transaction per sync run (``runner``).
"""
