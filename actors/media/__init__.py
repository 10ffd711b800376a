"""Video and audio tools on the MediaActor, which owns the ffmpeg/ffprobe subprocesses."""
