import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

// One declaration per parameter: these decorators are both the JSON schema the model sees and the validation of its arguments.
export class CheckAvailabilityDto {
  @JSONSchema({ description: 'Day to check, as YYYY-MM-DD.' })
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' })
  date: string;
}

export class BookSlotDto extends CheckAvailabilityDto {
  @JSONSchema({ description: 'Start time as HH:MM (24 h), one of the free slots.' })
  @IsString()
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'time must be HH:MM' })
  time: string;

  @JSONSchema({ description: "The caller's name." })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;
}
