"""`tf.saved_model.signature_def_utils`: SignatureDefs for TensorFlow Serving's predict, classify and
regress APIs, built from tensors, and their validity checks."""

from __future__ import annotations

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.protobuf import meta_graph_pb2
from tfmini.train.saved_model import signature_constants as _sc
from tfmini.train.saved_model.utils import build_tensor_info

_STRING = _dtypes.string.as_datatype_enum
_FLOAT = _dtypes.float32.as_datatype_enum


@tf_export("saved_model.build_signature_def", "saved_model.signature_def_utils.build_signature_def")
def build_signature_def(inputs=None, outputs=None, method_name=None) -> meta_graph_pb2.SignatureDef:
    """A SignatureDef from {name: TensorInfo} maps of inputs and outputs and a method name."""
    signature = meta_graph_pb2.SignatureDef()
    for key, info in (inputs or {}).items():
        signature.inputs[key].CopyFrom(info)
    for key, info in (outputs or {}).items():
        signature.outputs[key].CopyFrom(info)
    if method_name is not None:
        signature.method_name = method_name
    return signature


@tf_export("saved_model.predict_signature_def", "saved_model.signature_def_utils.predict_signature_def")
def predict_signature_def(inputs, outputs) -> meta_graph_pb2.SignatureDef:
    """The predict SignatureDef of {name: Tensor} inputs and outputs."""
    if inputs is None or not inputs:
        raise ValueError("Prediction inputs cannot be None or empty.")
    if outputs is None or not outputs:
        raise ValueError("Prediction outputs cannot be None or empty.")
    return build_signature_def({k: build_tensor_info(v) for k, v in inputs.items()},
                               {k: build_tensor_info(v) for k, v in outputs.items()}, _sc.PREDICT_METHOD_NAME)


@tf_export("saved_model.regression_signature_def", "saved_model.signature_def_utils.regression_signature_def")
def regression_signature_def(examples, predictions) -> meta_graph_pb2.SignatureDef:
    """The regress SignatureDef: serialized Examples (a string tensor) in, float predictions out."""
    if examples is None:
        raise ValueError("Regression examples cannot be None.")
    if not isinstance(examples, _ops.Tensor):
        raise ValueError("Regression examples must be a string Tensor.")
    if predictions is None:
        raise ValueError("Regression predictions cannot be None.")
    inputs = build_tensor_info(examples)
    if inputs.dtype != _STRING:
        raise ValueError("Regression examples must be a string Tensor.")
    outputs = build_tensor_info(predictions)
    if outputs.dtype != _FLOAT:
        raise ValueError("Regression output must be a float Tensor.")
    return build_signature_def({_sc.REGRESS_INPUTS: inputs}, {_sc.REGRESS_OUTPUTS: outputs},
                               _sc.REGRESS_METHOD_NAME)


@tf_export("saved_model.classification_signature_def", "saved_model.signature_def_utils.classification_signature_def")
def classification_signature_def(examples, classes, scores) -> meta_graph_pb2.SignatureDef:
    """The classify SignatureDef: serialized Examples (a string tensor) in, string classes and/or float
    scores out."""
    if examples is None:
        raise ValueError("Classification examples cannot be None.")
    if not isinstance(examples, _ops.Tensor):
        raise ValueError("Classification examples must be a string Tensor.")
    if classes is None and scores is None:
        raise ValueError("Classification classes and scores cannot both be None.")
    inputs = build_tensor_info(examples)
    if inputs.dtype != _STRING:
        raise ValueError("Classification examples must be a string Tensor.")
    outputs = {}
    if classes is not None:
        info = build_tensor_info(classes)
        if info.dtype != _STRING:
            raise ValueError("Classification classes must be a string Tensor.")
        outputs[_sc.CLASSIFY_OUTPUT_CLASSES] = info
    if scores is not None:
        info = build_tensor_info(scores)
        if info.dtype != _FLOAT:
            raise ValueError("Classification scores must be a float Tensor.")
        outputs[_sc.CLASSIFY_OUTPUT_SCORES] = info
    return build_signature_def({_sc.CLASSIFY_INPUTS: inputs}, outputs, _sc.CLASSIFY_METHOD_NAME)


def _is_valid_predict(sig) -> bool:
    return sig.method_name == _sc.PREDICT_METHOD_NAME and bool(sig.inputs) and bool(sig.outputs)


def _is_valid_regress(sig) -> bool:
    if sig.method_name != _sc.REGRESS_METHOD_NAME:
        return False
    if set(sig.inputs) != {_sc.REGRESS_INPUTS} or set(sig.outputs) != {_sc.REGRESS_OUTPUTS}:
        return False
    return sig.inputs[_sc.REGRESS_INPUTS].dtype == _STRING and sig.outputs[_sc.REGRESS_OUTPUTS].dtype == _FLOAT


def _is_valid_classify(sig) -> bool:
    if sig.method_name != _sc.CLASSIFY_METHOD_NAME:
        return False
    if set(sig.inputs) != {_sc.CLASSIFY_INPUTS} or sig.inputs[_sc.CLASSIFY_INPUTS].dtype != _STRING:
        return False
    allowed = {_sc.CLASSIFY_OUTPUT_CLASSES: _STRING, _sc.CLASSIFY_OUTPUT_SCORES: _FLOAT}
    if not sig.outputs or not set(sig.outputs) <= set(allowed):
        return False
    return all(sig.outputs[k].dtype == allowed[k] for k in sig.outputs)


@tf_export("saved_model.is_valid_signature", "saved_model.signature_def_utils.is_valid_signature")
def is_valid_signature(signature_def) -> bool:
    """Whether `signature_def` is a well-formed predict, classify or regress signature."""
    if signature_def is None:
        return False
    return _is_valid_predict(signature_def) or _is_valid_classify(signature_def) or \
        _is_valid_regress(signature_def)
