"""Network search-space files: the shipped spaces load and build, bad files fail in one line."""

from __future__ import annotations

import copy

import pytest

from hwsim.errors import InputError
from hwsim.explore.netspace import NetworkSpace
from hwsim.explore.space import Space
from hwsim.io.netspace_json import netspace_from_dict, netspace_to_dict, read_netspace
from hwsim.workload.families import resnet9

from tests.conftest import REPO

SPACES = REPO / "workloads" / "spaces"
DOC = {
    "format": "hwsim-netspace", "version": 1, "family": "resnet9", "name": "tiny9",
    "fixed": {"input_size": 32, "depth": [1, 0, 1]},
    "choices": {"channels[1]": [32, 64], "skip[2]": [True, False], "classes": [10, 100]},
    "source": "[assumed] test fixture",
}


@pytest.mark.parametrize("path", sorted(SPACES.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_space_loads_and_every_point_builds(path):
    space = read_netspace(path)
    assert space.name == path.stem and "[assumed]" in space.source and "[paper]" in space.source
    assert netspace_from_dict(netspace_to_dict(space)) == space
    names, networks = set(), set()
    for point in space.space:
        net = space.build(point)
        assert net.macs > 0 and net.name == space.network_name(point)
        names.add(net.name)
        networks.add(net.layers)
    assert len(names) == len(networks) == space.space.size, "every point is a different network"


def test_shipped_spaces_are_the_nasaic_tasks():
    sizes = {p.stem: read_netspace(p).space.size for p in SPACES.glob("*.json")}
    assert sizes == {"resnet9_cifar10": 128, "resnet9_stl10": 128, "unet_nuclei": 16}


def test_a_point_sets_whole_arguments_and_entries():
    space = netspace_from_dict(DOC)
    point = {"channels[1]": 32, "skip[2]": False, "classes": 100}
    assert space.args(point) == {"channels": (64, 32, 256, 512), "depth": (1, 0, 1), "skip": (True, False, False),
                                 "input_size": 32, "in_channels": 3, "classes": 100}
    net = space.build(point)
    assert net.name == "tiny9(channels[1]=32, skip[2]=false, classes=100)"
    layers = {layer.name: layer for layer in net.layers}
    assert layers["layer1.conv"].out_channels == 32 and layers["linear"].out_features == 100
    assert "layer3.residual.add" not in layers and "layer3.plain.res1.conv" in layers
    assert space.reference().layers == resnet9(input_size=32, depth=(1, 0, 1)).layers


def test_a_joint_point_is_read_through_a_prefix():
    space = netspace_from_dict(DOC)
    joint = Space.of({"template": ["a", "b"]}) + space.space.prefixed("cifar.")
    point = joint.point((1, 0, 1, 0))
    assert point == {"template": "b", "cifar.channels[1]": 32, "cifar.skip[2]": False, "cifar.classes": 10}
    assert space.subpoint(point, prefix="cifar.") == {"channels[1]": 32, "skip[2]": False, "classes": 10}
    assert space.build(point, prefix="cifar.").layers == space.build(
        {"channels[1]": 32, "skip[2]": False, "classes": 10}).layers
    with pytest.raises(InputError) as err:
        space.build(point)
    assert str(err.value) == "field 'channels[1]': is missing from the point (a choice of network space 'tiny9')"


def test_a_combination_the_family_refuses_names_the_network():
    doc = copy.deepcopy(DOC)
    doc["choices"] = {"depth[0]": [0, 1]}
    space = netspace_from_dict(doc)
    with pytest.raises(InputError) as err:
        space.build({"depth[0]": 0})
    assert str(err.value) == ("field 'skip[0]' = True: a skip connection needs a branch, but depth[0] is 0 "
                              "(in network tiny9(depth[0]=0))")


def _edit(**changes):
    doc = copy.deepcopy(DOC)
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return doc


@pytest.mark.parametrize("doc, message", [
    (_edit(format="hwsim-workload"), "f.json: field 'format' = 'hwsim-workload': expected 'hwsim-netspace'"),
    (_edit(version=2), "f.json: field 'version' = 2: unsupported version; this hwsim reads version 1"),
    (_edit(source=None), "f.json: field 'source': is required"),
    (_edit(extra=1), "f.json: field 'extra': unknown key (known: format, version, family, name, fixed, "
                     "choices, source)"),
    (_edit(family="vgg"), "f.json: field 'family' = 'vgg': unknown network family (known: resnet9, unet)"),
    (_edit(name=""), "f.json: field 'name' = '': must be a non-empty string"),
    (_edit(fixed={"width": 2}), "f.json: field 'fixed.width': is not an argument of the resnet9 family (arguments: "
                                "channels, depth, skip, input_size, in_channels, classes)"),
    (_edit(fixed={"input_size": "32"}), "f.json: field 'fixed.input_size' = '32': must be a whole number >= 1"),
    (_edit(choices=[1]), "f.json: field 'choices' = [1]: must be an object of choice -> list of options"),
    (_edit(choices={"classes": []}), "f.json: field 'choices.classes' = []: the options must not be empty"),
    (_edit(choices={"classes": 10}), "f.json: field 'choices.classes' = 10: the options must be a list"),
    (_edit(choices={"width": [1]}), "f.json: field 'choices.width': is not an argument of the resnet9 family "
                                    "(arguments: channels, depth, skip, input_size, in_channels, classes)"),
    (_edit(choices={"channels[1]": [64, "x"]}), "f.json: field 'choices.channels[1]' = 'x': must be a whole "
                                                "number >= 1"),
    (_edit(choices={"skip[0]": [True, 0]}), "f.json: field 'choices.skip[0]' = 0: must be true or false"),
    (_edit(choices={"channels[4]": [64]}), "f.json: field 'choices.channels[4]' = 4: 'channels' has 4 entries "
                                           "(0..3)"),
    (_edit(choices={"classes[0]": [64]}), "f.json: field 'choices.classes[0]': 'classes' is not a list argument "
                                          "here, so it has no entries"),
    (_edit(choices={"channels[01]": [64]}), "f.json: field 'choices.channels[01]': must be an argument name or "
                                            "name[index]"),
    (_edit(choices={"input_size": [32, 64]}), "f.json: field 'choices.input_size': is both fixed and a choice"),
    (_edit(choices={"channels": [[64, 128, 256, 512]], "channels[0]": [32]}),
     "f.json: field 'choices.channels': is chosen both whole and by entry"),
    (_edit(choices={"channels": [[64, 128, 256]]}), "f.json: field 'choices.channels' = [64, 128, 256]: must list 4 "
                                                    "values"),
])
def test_bad_space_files_fail_in_one_line(write_doc, doc, message):
    with pytest.raises(InputError) as err:
        read_netspace(write_doc(doc, "f.json"))
    assert str(err.value).replace(str(write_doc(doc, "f.json")), "f.json") == message


def test_whole_tuple_options_become_tuples():
    space = netspace_from_dict(_edit(choices={"channels": [[32, 64, 128, 256], [64, 128, 256, 512]]}))
    assert space.space.choices[0].options == ((32, 64, 128, 256), (64, 128, 256, 512))
    assert space.build({"channels": (32, 64, 128, 256)}).params < space.build({"channels": (64, 128, 256, 512)}).params


def test_network_space_checks_its_fields_in_python_too():
    with pytest.raises(InputError) as err:
        NetworkSpace("unet", "u", {}, Space.of({"depth": [0, 1]}), "s")
    assert str(err.value) == "field 'choices.depth' = 0: must be a whole number >= 1"
