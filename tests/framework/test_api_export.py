"""The one-declaration registry of public names (framework/api_export.py) and the namespaces built from it."""

import types

import pytest

import tfmini as tf
from tfmini.framework import api_export
from tfmini.framework.api_export import tf_export


@pytest.fixture
def scratch():
    """Declarations under namespaces private to one test, removed afterwards."""
    before = {ns: dict(names) for ns, names in api_export._API.items()}
    declared_before = dict(api_export._DECLARED_AT)
    yield
    api_export._API.clear()
    api_export._API.update(before)
    api_export._DECLARED_AT.clear()
    api_export._DECLARED_AT.update(declared_before)


def test_a_declaration_names_the_object_in_every_namespace(scratch):
    @tf_export("zz_a.softplus", "zz_b.softplus", "zz_top")
    def softplus(x):
        return x

    assert api_export.namespace("zz_a") == {"softplus": softplus}
    assert api_export.namespace("zz_b") == {"softplus": softplus}
    assert api_export.namespace("")["zz_top"] is softplus
    assert softplus._tf_api_names == ("zz_a.softplus", "zz_b.softplus", "zz_top")
    assert set(api_export.api_names(softplus)) == {"zz_a.softplus", "zz_b.softplus", "zz_top"}
    assert ("tf.zz_a.softplus", softplus) in list(api_export.declared_names())


def test_two_objects_under_one_name_are_refused_naming_both(scratch):
    @tf_export("zz_c.f")
    def first():
        pass

    def second():
        pass

    with pytest.raises(ValueError, match=r"tf\.zz_c\.f is declared twice.*first.*second"):
        tf_export("zz_c.f")(second)
    tf_export("zz_c.f")(first)  # declaring the same object again is harmless


@pytest.mark.parametrize("bad", ["tf.nn.relu", "nn..relu", "nn.relu-6", "", "1x"])
def test_malformed_names_are_refused(scratch, bad):
    with pytest.raises(ValueError, match="not a public name"):
        tf_export(bad)(lambda: None)


def test_constants_are_declared_by_module_and_name(scratch):
    tf_export("zz_d.float32", "zz_d.single").export_constant("tfmini.framework.dtypes", "float32")
    assert api_export.namespace("zz_d") == {"float32": tf.float32, "single": tf.float32}


def test_populate_binds_the_declared_names_and_refuses_a_disagreeing_binding(scratch):
    @tf_export("zz_e.g")
    def g():
        pass

    module = types.ModuleType("fake_ns")
    module.__all__ = ["h"]
    module.h = 1
    assert api_export.populate(vars(module), "zz_e") == ["g", "h"]
    assert module.g is g
    other = types.ModuleType("other_ns")
    other.g = len
    with pytest.raises(ValueError, match=r"tf\.zz_e\.g is bound to .*len"):
        api_export.populate(vars(other), "zz_e")


def test_a_namespace_without_a_module_is_an_error(scratch):
    tf_export("zz_nowhere.f")(lambda: None)
    with pytest.raises(ValueError, match=r"declared under tf\.zz_nowhere .* no module"):
        api_export.populate_all(tf)


def test_every_declared_name_resolves_to_its_object():
    for full_name, obj in api_export.declared_names():
        target = tf
        for part in full_name.split(".")[1:]:
            target = getattr(target, part)
        assert target is obj, full_name
        if full_name.count(".") > 1:
            namespace_module = tf
            for part in full_name.split(".")[1:-1]:
                namespace_module = getattr(namespace_module, part)
            assert full_name.rsplit(".", 1)[1] in namespace_module.__all__, full_name


def test_a_package_submodule_of_the_same_name_gives_way_to_the_declared_name(scratch):
    @tf_export("zz_f.simple_save")
    def simple_save():
        pass

    package = types.ModuleType("zz_pkg")
    package.simple_save = types.ModuleType("zz_pkg.simple_save")  # what importing the submodule binds
    api_export.populate(vars(package), "zz_f")
    assert package.simple_save is simple_save
    unrelated = types.ModuleType("zz_pkg2")
    unrelated.simple_save = types.ModuleType("elsewhere.simple_save")
    with pytest.raises(ValueError, match="is bound to"):
        api_export.populate(vars(unrelated), "zz_f")
