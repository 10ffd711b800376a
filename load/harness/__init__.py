"""The parts every load scenario shares: a server to start (`server`), clients (`clients`), what is sampled
from the server (`sampling`), generated inputs (`inputs`), the bare-library baselines (`bare`) and a
measured level (`results`). The entry points (bench, soak, media, documents, pipeline, auth) only say
what to run."""
