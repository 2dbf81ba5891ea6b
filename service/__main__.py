"""``python -m service`` is the ``dprk-kg`` command."""

from .cli import main

main()
