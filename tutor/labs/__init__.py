"""Labs on the learner's side: the catalogue, workspaces, running a lab with progress.

- ``catalogue``: the course's labs joined with their runnable specs (exercises/<dir>/lab.yaml)
- ``workspace``: ``tutor lab start`` copies, and the directory a run may see
- ``runner``: ``LabRun`` yields typed ``Progress`` / ``LogLine`` / ``Finished`` events
- ``devcheck``: ``tutor dev check``; ``cli``: the ``tutor lab`` / ``tutor dev`` handlers

Specs and checks live in ``graders.labs`` (usable without this package). Nothing here imports the
ML stack; lab scripts import it in their own process.
"""
