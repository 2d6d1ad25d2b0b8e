"""The one place that imports Keras, so the cost is paid only when a model is really needed.

``load_keras`` picks the TensorFlow backend unless the user chose another, and keeps
TensorFlow's start-up lines (absl's preamble, oneDNN, CUDA, cuInit, CPU features) out of the
user's terminal and out of pytest's "Captured stderr": while Keras is imported and TensorFlow
probes its devices, file descriptor 2 goes to a temporary file, and only the lines that are not
such log lines are written back. ``TF_CPP_MIN_LOG_LEVEL`` is set to 2 for that import only, when
the user has not set it; a user who sets it to 0 or 1 sees everything. ``TF_ENABLE_ONEDNN_OPTS``
is never touched (it changes the numbers). ``start_keras_quietly`` also quietens TensorFlow's
Python logger (the command line uses it). ``ctrl_c_kept`` keeps a Ctrl-C that TensorFlow's import
would lose. Imports nothing of ours.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import ModuleType
from typing import Any

RETRACING = "triggered tf.function retracing"  # the one TensorFlow warning kept out

#: TensorFlow's native log lines, of any level: absl's (``I0000 00:00:1796285.5  123 port.cc:153]
#: ...``), the older TF format (``2024-01-02 10:00:00.123: I tensorflow/...cc:12] ...``), absl's
#: note that logging is not initialised yet, and the second line of the CPU-feature notice.
START_UP_LINE = re.compile(
    rb"[IWEF]\d{4} [\d:.]+ +\d+ [\w.\-]+:\d+\] "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [\w./\-]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
)
LOUD_LEVELS = ("0", "1")  # TF_CPP_MIN_LOG_LEVEL values that ask for TensorFlow's notices

_started = False


def load_keras() -> ModuleType:
    """Import Keras (TensorFlow backend unless the user chose another); the first call keeps
    TensorFlow's start-up lines off stderr."""
    global _started
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not _started:
        _started = True
        with ctrl_c_kept(), start_up_lines_dropped():
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices()  # where CUDA reports, e.g. cuInit
    import keras

    return keras


class _CtrlC:
    """The SIGINT handler inside ``ctrl_c_kept``: notes the press, then raises as Python's does."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous  # the handler it stands in for, put back on leaving
        self.pressed = False
        self.active = True

    def __call__(self, signum: int, frame: object) -> None:
        self.pressed = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.pressed:
            raise KeyboardInterrupt


def _no_check() -> None:
    pass


class ctrl_c_kept:  # named as the context manager it is used as: with ctrl_c_kept() as check
    """A Ctrl-C inside is a KeyboardInterrupt on leaving, whatever became of it in between.

    A KeyboardInterrupt raised while a native module initialises comes out of TensorFlow's import
    as ``ImportError: initialization failed``, and one raised inside a library's ``except
    ImportError`` (or bare ``except``) is lost, so the training it interrupted went on. Here the
    press is noted too: any other exception that leaves after it is replaced by KeyboardInterrupt,
    and a press that vanished is raised on leaving or by the function ``with`` gives (call it
    between steps). Only in the main thread with Python's own handler in place (another handler
    is the caller's choice, kept; other threads get a check that does nothing); nested uses share
    the outermost one. The handler is put back even when a second press lands while it is.
    """

    def __init__(self) -> None:
        self._guard: _CtrlC | None = None

    def __enter__(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return _no_check
        current = signal.getsignal(signal.SIGINT)
        if isinstance(current, _CtrlC) and current.active:
            return current.check
        if isinstance(current, _CtrlC):  # one whose leaving was cut short: what it stood for
            current = current.previous
        if current is not signal.default_int_handler:
            return _no_check
        guard = self._guard = _CtrlC(current)
        try:
            signal.signal(signal.SIGINT, guard)
            return guard.check
        except BaseException:  # a press at once: the with block never starts, so leave here
            self._restore()
            raise

    def __exit__(self, kind: type[BaseException] | None, value: object, traceback: object) -> bool:
        guard = self._guard
        if guard is None:
            return False
        self._restore()
        if guard.pressed and not (kind is not None and issubclass(kind, KeyboardInterrupt)):
            raise KeyboardInterrupt from None
        return False

    def _restore(self) -> None:
        guard = self._guard
        assert guard is not None
        guard.active = False
        while True:  # Python runs a pending handler before it changes one: try again after it
            try:
                signal.signal(signal.SIGINT, guard.previous)
                return
            except KeyboardInterrupt:
                guard.pressed = True


@contextmanager
def start_up_lines_dropped() -> Iterator[None]:
    """Inside, TF_CPP_MIN_LOG_LEVEL is 2 unless the user set it, and what is written to file
    descriptor 2 is kept back; on leaving, the variable is as it was and every line of it but
    TensorFlow's log lines is written to stderr (all of it, when the user asked for the logs)."""
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    if level is None:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        with _stderr_kept(keep_all=level in LOUD_LEVELS):
            yield
    finally:
        if level is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)


@contextmanager
def _stderr_kept(keep_all: bool) -> Iterator[None]:
    try:
        os.fstat(2)
        kept = tempfile.TemporaryFile()  # noqa: SIM115  (closed below, after descriptor 2)
    except OSError:  # no descriptor 2 (a daemon), or nowhere to keep it: nothing to filter
        yield
        return
    _flush_stderr()
    saved = os.dup(2)
    try:
        os.dup2(kept.fileno(), 2)
        yield
    finally:
        _flush_stderr()
        os.dup2(saved, 2)
        os.close(saved)
        kept.seek(0)
        lines = kept.read().splitlines(keepends=True)
        kept.close()
        shown = memoryview(b"".join(x for x in lines if keep_all or not START_UP_LINE.match(x)))
        while shown:
            shown = shown[os.write(2, shown) :]


def _flush_stderr() -> None:
    with suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()


def start_keras_quietly() -> None:
    """Import Keras as ``load_keras`` does, and keep one TensorFlow warning out from between
    progress lines: "N out of the last N calls to ... multi_step_on_iterator triggered
    tf.function retracing" is expected here, since each calibration seed is a new model whose
    training function Keras traces anew (``TensorFlowTrainer._make_function``). Its other
    warnings are still shown."""
    keras = load_keras()
    if keras.backend.backend() == "tensorflow" and os.environ.get("TF_CPP_MIN_LOG_LEVEL") not in (
        LOUD_LEVELS
    ):
        import tensorflow as tf

        logger = tf.get_logger()
        if not any(isinstance(f, _NoRetracing) for f in logger.filters):
            logger.addFilter(_NoRetracing())


class _NoRetracing(logging.Filter):
    """Drops TensorFlow's retracing warning, and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return RETRACING not in record.getMessage()
