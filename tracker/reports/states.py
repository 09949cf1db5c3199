from flask_babel import lazy_gettext as _l

from tracker.core.enums import LabelledEnum


class BulletinState(LabelledEnum):
    draft = "draft"
    published = "published"

    @classmethod
    def _labels(cls):
        return {"draft": _l("Draft"), "published": _l("Published")}


class JobState(LabelledEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @classmethod
    def _labels(cls):
        return {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}
