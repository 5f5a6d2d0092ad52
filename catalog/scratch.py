"""Whether a worker's scratch folder still holds what the job's current step needs.

Workers on several machines share the database and the object storage, not their disks. A job stopped
on one worker (killed, rebooted, drained) and picked up by another finds an empty scratch folder there:
the step it stopped at cannot read the data it had fetched or laid out. `step_to_resume` names the step
that rebuilds what is missing (fetch again for a hosted dataset, write the card again for a linked one),
so the job completes on any worker; the upload's check of existing commits keeps it to one commit.
"""

from catalog.models import MirrorJob

Step = MirrorJob.Step


def step_to_resume(job, *, workdir, source_file, readme):
    """Return the step `job` can run from with the files present in `workdir`."""
    step = job.step
    if step not in (Step.UNPACK, Step.WRITE_CARD, Step.UPLOAD):
        return step
    if job.dataset.hosted:
        if step == Step.UNPACK and not source_file.exists():
            return Step.FETCH
        if step != Step.UNPACK and not all((workdir / entry["path"]).exists() for entry in job.manifest):
            return Step.FETCH
    if step == Step.UPLOAD and not readme.exists():
        return Step.WRITE_CARD
    return step
