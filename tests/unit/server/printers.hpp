// Catch2 printers for the server config types, so failed comparisons show their contents.
#pragma once

#include <catch2/catch.hpp>

#include "uetcd/server/log.hpp"

namespace Catch {
template <>
struct StringMaker<uetcd::server::log_record> {
    static std::string convert(const uetcd::server::log_record& record) {
        return std::string(1, uetcd::server::log_level_letter(record.level)) + " " +
               record.package + ": " + record.text;
    }
};
}  // namespace Catch
