"""Handing work to the Celery workers by task name, so that callers never import the task modules.

Services schedule work after their transaction commits; by then the change is saved, so a broker outage
must not fail the request: it is logged, and the periodic sweepers enqueue what was missed.
"""

import importlib
import logging

from celery import current_app

logger = logging.getLogger(__name__)


def enqueue(task_name, *args):
    """Queue the task `task_name` with `args`; return whether the broker took it."""
    try:
        if task_name not in current_app.tasks:
            # The web process imports a task module only when first needed (the worker imports them at
            # start). Only that module: the loader's import_default_modules would run Django's setup
            # again through Celery's fixup, which reconfigures logging in a running web process.
            importlib.import_module(task_name.rpartition(".")[0])
        current_app.tasks[task_name].apply_async(args=args)
    except Exception:
        # Ids only: some tasks carry an e-mail address or a rendered message with a private link.
        shown = args if all(isinstance(arg, int) for arg in args) else "(…)"
        logger.exception("Could not queue %s%r; a sweeper will pick the work up.", task_name, shown)
        return False
    return True
