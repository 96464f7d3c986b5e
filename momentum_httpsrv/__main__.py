"""`python -m momentum_httpsrv` is the `momentum-httpsrv` command."""

from .cli import main

main()
