# Ansible callback plugin used by internal/testbed/playbook: records every task result per host and the
# play recap, and writes them as one JSON file ($CNIMIGRATE_RESULTS_JSON) when the playbook ends.
# It is a notification callback, so the normal screen output stays as it is.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: cnimigrate_results
    type: aggregate
    short_description: write per-task, per-host results and the recap as JSON to a file
    description:
      - Used by cnimigrate's Go playbook runner (internal/testbed/playbook) to read what Ansible reported.
    requirements:
      - enabled with ANSIBLE_CALLBACKS_ENABLED and CNIMIGRATE_RESULTS_JSON set to the output path
'''

import json
import os

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'cnimigrate_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self._path = os.environ.get('CNIMIGRATE_RESULTS_JSON')
        self._plays = []

    def v2_playbook_on_play_start(self, play):
        self._plays.append({'name': play.get_name(), 'tasks': []})

    def _task(self, task):
        if not self._plays:
            self._plays.append({'name': '', 'tasks': []})
        self._plays[-1]['tasks'].append({
            'name': task.get_name(), 'action': task.action, 'uuid': task._uuid, 'hosts': {}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task)

    def _record(self, result, status, ignored=False):
        if not self._plays or not self._plays[-1]['tasks']:
            return
        tasks = self._plays[-1]['tasks']
        entry = tasks[-1]
        for t in reversed(tasks):
            if t['uuid'] == result._task._uuid:
                entry = t
                break
        entry['hosts'][result._host.get_name()] = {
            'status': status, 'ignored': ignored, 'result': result._result}

    def v2_runner_on_ok(self, result):
        self._record(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        recap = {}
        for host in sorted(stats.processed.keys()):
            recap[host] = stats.summarize(host)
        if not self._path:
            return
        tmp = self._path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'plays': self._plays, 'stats': recap}, f, cls=AnsibleJSONEncoder, sort_keys=True)
        os.rename(tmp, self._path)
