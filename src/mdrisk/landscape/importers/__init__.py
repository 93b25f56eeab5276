"""One module per input format; each turns one file into records or refuses it whole."""
