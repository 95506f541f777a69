export { EventSchemas, type EventType, type EventData } from '@orderflow/contracts';
