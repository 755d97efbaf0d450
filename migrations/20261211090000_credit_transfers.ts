import type { Knex } from 'knex';

const TRANSFER_STATES = "'pending', 'delivering', 'delivered', 'parked', 'unknown'";

export async function up(knex: Knex): Promise<void> {
  // Where this database's credits go besides its own ledger, written by the portal at start from its
  // configuration (CREDIT_DESTINATION). No row: the ledger alone. One row at most.
  await knex.schema.createTable('credit_destination', (table) => {
    table.integer('id').primary();
    table.string('kind', 20).notNullable();
    table.string('label', 300).notNullable();
    table.timestamp('configured_at', { useTz: true }).notNullable();
    table.check('?? = 1', ['id'], 'credit_destination_single_row');
  });

  // The outbox of credits for the print system: one row per person's line of a ledger transaction that
  // changes their balance from the portal's side, queued in that transaction (db/ledger/ledger-repository.ts).
  await knex.schema.createTable('credit_transfers', (table) => {
    table.increments('id').primary();
    table.integer('ledger_transaction_id').unsigned().notNullable().references('id').inTable('ledger_transactions');
    table.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    // Hundredths of a unit, signed: what the person's line added to (or took from) their balance.
    table.bigInteger('amount').notNullable();
    table.string('destination', 20).notNullable();
    table.string('state', 20).notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.timestamp('next_attempt_at', { useTz: true }).notNullable();
    table.timestamp('lease_until', { useTz: true }).nullable();
    // When it was queued or last put back by an admin: retries give up counting from here.
    table.timestamp('tries_since', { useTz: true }).notNullable();
    table.string('last_error', 1000).nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('delivered_at', { useTz: true }).nullable();
    // A transaction's line is transferred once, whatever replays the posting.
    table.unique(['ledger_transaction_id', 'user_id']);
    table.index(['state', 'next_attempt_at']);
    table.index(['user_id']);
    table.check(`?? in (${TRANSFER_STATES})`, ['state'], 'credit_transfers_state_known');
    table.check('?? <> 0', ['amount'], 'credit_transfers_amount_not_zero');
  });

  // Each transfer's history: every attempt and how it ended, every admin decision.
  await knex.schema.createTable('credit_transfer_events', (table) => {
    table.increments('id').primary();
    table.integer('transfer_id').unsigned().notNullable().references('id').inTable('credit_transfers');
    table.timestamp('at', { useTz: true }).notNullable();
    table.string('event', 30).notNullable();
    table.integer('attempt').nullable();
    table.string('detail', 1000).nullable();
    // The person's balance in the print system read before sending and after a lost answer (hundredths).
    table.bigInteger('balance_before').nullable();
    table.bigInteger('balance_after').nullable();
    table.integer('actor_id').unsigned().nullable().references('id').inTable('users');
    table.index(['transfer_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('credit_transfer_events');
  await knex.schema.dropTable('credit_transfers');
  await knex.schema.dropTable('credit_destination');
}
