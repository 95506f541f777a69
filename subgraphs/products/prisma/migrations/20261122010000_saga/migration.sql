-- A committed reservation whose units came back (order cancelled after payment).
ALTER TYPE "reservation_status" ADD VALUE 'RETURNED';
