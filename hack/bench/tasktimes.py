# Ansible callback plugin used by hack/bench: for every task, when it started and when each host
# finished it, written as JSON to $CNIMIGRATE_BENCH_TIMES at the end. A notification callback: the
# screen output stays as it is.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: cnimigrate_bench_times
    type: aggregate
    short_description: per-task start and per-host end times as JSON
    description:
      - Used by cnimigrate's benchmark (hack/bench) to time tasks and phases of a playbook run.
    requirements:
      - enabled with ANSIBLE_CALLBACKS_ENABLED and CNIMIGRATE_BENCH_TIMES set to the output path
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'cnimigrate_bench_times'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self._path = os.environ.get('CNIMIGRATE_BENCH_TIMES')
        self._tasks = []

    def _start(self, task):
        role = task._role.get_name() if task._role else ''
        self._tasks.append({'name': task.get_name(), 'action': task.action, 'role': role,
                            'uuid': task._uuid, 'start': time.time(), 'hosts': {}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _end(self, result, status):
        for t in reversed(self._tasks):
            if t['uuid'] == result._task._uuid:
                t['hosts'][result._host.get_name()] = {'end': time.time(), 'status': status}
                return

    def v2_runner_on_ok(self, result):
        self._end(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._end(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._end(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        if not self._path:
            return
        with open(self._path, 'w') as f:
            json.dump(self._tasks, f)
