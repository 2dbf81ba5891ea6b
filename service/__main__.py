"""``python -m service`` is the ``dprk-kg`` command."""

from service.cli.main import main

main()
