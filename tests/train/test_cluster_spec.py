"""tf.train.ClusterSpec and the ClusterDef/JobDef/ServerDef protos (expected values as TensorFlow 1.x gives
them)."""

import pytest

import tfmini as tf
from tfmini.protobuf import config_pb2, device_filters_pb2, tensorflow_server_pb2

CLUSTER = {"worker": ["w0:2222", "w1:2222"], "ps": {0: "p0:2222", 3: "p3:2222"}}


def test_jobs_and_tasks():
    spec = tf.train.ClusterSpec(CLUSTER)
    assert spec.jobs == ["worker", "ps"]
    assert spec.num_tasks("worker") == 2 and spec.num_tasks("ps") == 2
    assert spec.task_indices("ps") == [0, 3]
    assert spec.task_address("ps", 3) == "p3:2222"
    assert spec.job_tasks("worker") == ["w0:2222", "w1:2222"]
    assert spec.job_tasks("ps") == ["p0:2222", None, None, "p3:2222"]


def test_as_dict_lists_dense_jobs_and_maps_sparse_ones():
    spec = tf.train.ClusterSpec(CLUSTER)
    assert spec.as_dict() == {"worker": ["w0:2222", "w1:2222"], "ps": {0: "p0:2222", 3: "p3:2222"}}
    assert tf.train.ClusterSpec({"ps": {}}).as_dict() == {"ps": {}}
    assert tf.train.ClusterSpec({"w": ("a",)}).as_dict() == {"w": ["a"]}
    assert tf.train.ClusterSpec({"ps": {"1": "a:1"}}).as_dict() == {"ps": {1: "a:1"}}


def test_cluster_def_is_sorted_by_job_and_task():
    cluster_def = tf.train.ClusterSpec(CLUSTER).as_cluster_def()
    assert isinstance(cluster_def, tf.train.ClusterDef)
    assert [job.name for job in cluster_def.job] == ["ps", "worker"]
    assert dict(cluster_def.job[0].tasks) == {0: "p0:2222", 3: "p3:2222"}
    assert dict(cluster_def.job[1].tasks) == {0: "w0:2222", 1: "w1:2222"}


def test_built_from_cluster_spec_and_cluster_def():
    spec = tf.train.ClusterSpec(CLUSTER)
    again = tf.train.ClusterSpec(spec)
    from_def = tf.train.ClusterSpec(spec.as_cluster_def())
    assert again == spec and from_def == spec
    assert from_def.as_dict() == spec.as_dict()
    assert from_def.as_cluster_def() == spec.as_cluster_def()
    assert from_def.as_cluster_def() is not spec.as_cluster_def()  # a copy: the caller's proto is theirs
    assert tf.train.ClusterSpec(tf.train.ClusterDef()).as_dict() == {}


def test_equality_bool_str():
    spec = tf.train.ClusterSpec({"w": ["a"]})
    assert spec == {"w": {0: "a"}}
    assert spec == tf.train.ClusterSpec({"w": {0: "a"}})
    assert spec != tf.train.ClusterSpec({"w": {0: "b"}})
    assert not tf.train.ClusterSpec({}) and spec
    assert str(tf.train.ClusterSpec(CLUSTER)) == "ClusterSpec({'ps': {0: 'p0:2222', 3: 'p3:2222'}, " \
                                                 "'worker': ['w0:2222', 'w1:2222']})"
    with pytest.raises(TypeError, match="unhashable"):
        hash(spec)


def test_errors():
    spec = tf.train.ClusterSpec({"w": ["a"]})
    with pytest.raises(ValueError, match="No such job in cluster: 'x'"):
        spec.num_tasks("x")
    with pytest.raises(ValueError, match="No such job in cluster"):
        spec.task_indices("x")
    with pytest.raises(ValueError, match="No such job in cluster"):
        spec.job_tasks("x")
    with pytest.raises(ValueError, match="No task with index 2 in job 'w'"):
        spec.task_address("w", 2)
    with pytest.raises(TypeError, match="The tasks for job 'ps' must be a list or a dictionary"):
        tf.train.ClusterSpec({"ps": "a:1"})
    with pytest.raises(TypeError, match="Job name 1 must be bytes or unicode"):
        tf.train.ClusterSpec({1: ["a:1"]})
    with pytest.raises(TypeError, match="Task address 1 must be bytes or unicode"):
        tf.train.ClusterSpec({"ps": [1]})
    with pytest.raises(TypeError, match="`cluster` must be a dictionary mapping one or more job names"):
        tf.train.ClusterSpec(["a"])
    with pytest.raises(ValueError):
        tf.train.ClusterSpec({"ps": {}}).job_tasks("ps")


def test_server_def_fields_and_numbers_are_tensorflows():
    fields = {f.name: f.number for f in tf.train.ServerDef.DESCRIPTOR.fields}
    assert fields == {"cluster": 1, "job_name": 2, "replica": 8, "task_index": 3, "default_session_config": 4,
                      "protocol": 5, "port": 6, "cluster_device_filters": 7}
    assert {f.name: f.number for f in tf.train.JobDef.DESCRIPTOR.fields} == {"name": 1, "tasks": 2}
    assert {f.name: f.number for f in tf.train.ClusterDef.DESCRIPTOR.fields} == {"job": 1}
    filters = device_filters_pb2.ClusterDeviceFilters
    assert {f.name: f.number for f in filters.DESCRIPTOR.fields} == {"jobs": 1}


def test_server_def_wire_format():
    server_def = tensorflow_server_pb2.ServerDef(
        cluster=tf.train.ClusterSpec({"ps": ["a:1"]}).as_cluster_def(), job_name="ps", task_index=1,
        protocol="grpc", default_session_config=config_pb2.ConfigProto(log_device_placement=True))
    # cluster (1) { job (1) { name (1) "ps", tasks (2) { key (1) 0, value (2) "a:1" } } }, job_name (2) "ps",
    # task_index (3) 1, default_session_config (4) { log_device_placement (8) true }, protocol (5) "grpc"
    expected = (b"\n\x0f\n\r\n\x02ps\x12\x07\x08\x00\x12\x03a:1" b"\x12\x02ps" b"\x18\x01" b"\"\x02@\x01"
                b"*\x04grpc")
    assert server_def.SerializeToString() == expected
    assert tensorflow_server_pb2.ServerDef.FromString(expected) == server_def
    filters = device_filters_pb2.ClusterDeviceFilters()
    filters.jobs.add(name="w").tasks[0].device_filters.append("/job:ps")
    server_def.cluster_device_filters.CopyFrom(filters)
    assert tensorflow_server_pb2.ServerDef.FromString(server_def.SerializeToString()) == server_def
