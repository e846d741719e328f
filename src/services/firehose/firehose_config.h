#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "delivery/stream_def.h"
#include "services/json.h"

// Reading Firehose's S3 destination configurations (Create and Update) into the engine's
// delivery::Destination, with AWS's checks: model constraints (ValidationException), semantic
// rules of spec 6.3 and every member we do not implement (InvalidArgumentException naming it).
namespace salespipe::services::firehose {

struct ParsedDestination {
  delivery::Destination destination;
  // The configuration with AWS's defaults filled in, as DescribeDeliveryStream shows it (an
  // ExtendedS3DestinationDescription-shaped JSON object).
  std::string description;
};

// `config` is an ExtendedS3DestinationConfiguration (`extended`) or S3DestinationConfiguration
// object; `path` its camelCase member path for messages ("extendedS3DestinationConfiguration").
// Errors: kInvalidArgument (ValidationException via aws_code, or InvalidArgumentException).
Result<ParsedDestination> ParseDestination(const JsonValue& config, bool extended,
                                           std::string_view path);

// Applies an ExtendedS3DestinationUpdate / S3DestinationUpdate to the stored `description`
// (members present replace the stored ones) and parses the result like ParseDestination.
// Dynamic partitioning cannot be switched on or off by an update.
Result<ParsedDestination> ApplyDestinationUpdate(std::string_view description,
                                                 const JsonValue& update, bool extended,
                                                 std::string_view path);

// `errors` as a ValidationException (OK when empty).
Status ValidationStatus(const ValidationErrors& errors);

// Writes the S3DestinationDescription subset of an extended description.
void WriteS3Description(JsonWriter& w, const JsonValue& description);

}  // namespace salespipe::services::firehose
