export * from '@orderflow/contracts/validation';
