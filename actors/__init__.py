"""socius' runtimes and command line. The Ray runtime joins the in-process one here."""
