/** What the web layer reads or writes of people as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { findPeopleImport } from '../../db/people/people-import-repository.js';
export { findPersonAccount, listPersonOrders, searchPeople } from '../../db/people/people-repository.js';
export { findUserById, findUserByUsername, findUserWithAccount, stripPassword, updateUser, type SignedInAccount } from '../../db/people/user-repository.js';
