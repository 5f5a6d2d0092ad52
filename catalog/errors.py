"""The two ways a mirroring step can fail: it may heal (retry later) or it will not (the job fails)."""

from portal import i18n


class RetryLater(Exception):
    """A step failed in a way that may heal; try the job again after `countdown` seconds.

    `attempts` is the number of runs the job has had so far (stored with the job, so it survives the
    sweeper re-enqueueing it); the task gives up once it passes MIRROR_MAX_RETRIES.
    """

    def __init__(self, message, *, countdown=None, attempts=0):
        super().__init__(message)
        self.countdown = countdown
        self.attempts = attempts


class MirrorFailed(Exception):
    """A step failed in a way that retrying will not heal; the message is for the curator.

    `message` is plain text or a stored message (`portal.i18n.message`), kept as `stored` for the timeline,
    where each curator reads it in their language; str(exc) is its English (the job's error, the logs).
    """

    def __init__(self, message):
        super().__init__(i18n.english(message))
        self.stored = message
