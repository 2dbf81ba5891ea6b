"""The command line (click lives only here): serve, stats, validate and load, query, link, export."""
