/**
 * Keep-alive: the stock policies (fixed, hybrid histogram) and the controller that feeds them idle times and applies
 * their windows to the pools on the maintenance thread. Nothing here runs on the invoke path.
 */
package dev.embla.faas.internal.keepalive;
