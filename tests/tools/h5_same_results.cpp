// h5_same_results A.h5 B.h5: exit 0 if every dataset of A (but wall_seconds, which times the
// run) has the same shape, type and bytes in B and B has no other datasets; else name the first
// difference and exit 1. Bytes, not values: NaN equals NaN, and 1 ulp is a difference.
#include <hdf5.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace {

herr_t collect(hid_t, const char* name, const H5O_info_t* info, void* out) {
    const std::string path(name);
    const bool timing = path.size() >= 12 && path.compare(path.size() - 12, 12, "wall_seconds") == 0;
    if (info->type == H5O_TYPE_DATASET && !timing) static_cast<std::set<std::string>*>(out)->insert(path);
    return 0;
}

std::set<std::string> datasets(hid_t file) {
    std::set<std::string> names;
    H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collect, &names, H5O_INFO_BASIC);
    return names;
}

std::vector<unsigned char> bytes(hid_t file, const std::string& name, std::vector<hsize_t>& shape) {
    const hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds);
    const hid_t type = H5Dget_type(ds);
    shape.assign(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)), 0);
    H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    std::vector<unsigned char> data;
    if (H5Tis_variable_str(type) > 0) {
        // Variable-length strings (string coordinates): the texts, not the pointers to them.
        std::vector<char*> text(count, nullptr);
        if (count > 0) H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data());
        for (char* t : text) {
            const std::string s = t ? t : "";
            data.insert(data.end(), s.begin(), s.end());
            data.push_back(0);
            H5free_memory(t);
        }
    } else {
        data.resize(count * H5Tget_size(type));
        if (!data.empty()) H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(ds);
    return data;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: h5_same_results A.h5 B.h5\n");
        return 2;
    }
    const hid_t a = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t b = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (a < 0 || b < 0) {
        std::fprintf(stderr, "h5_same_results: cannot open %s\n", a < 0 ? argv[1] : argv[2]);
        return 2;
    }
    const auto names = datasets(a);
    if (names != datasets(b)) {
        std::printf("the files hold different datasets\n");
        return 1;
    }
    for (const auto& name : names) {
        std::vector<hsize_t> shape_a, shape_b;
        const auto da = bytes(a, name, shape_a);
        const auto db = bytes(b, name, shape_b);
        if (shape_a != shape_b || da != db) {
            std::printf("%s differs\n", name.c_str());
            return 1;
        }
    }
    std::printf("%zu datasets identical (wall_seconds excluded)\n", names.size());
    return 0;
}
